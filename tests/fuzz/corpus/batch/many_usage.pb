
sensor-2node-bc €Ğê¶·3*0.1.02ÖÓ˜Èê¶·3Ğê¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&èèè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@H€Ğê¶·32ÖÓ€Ğê¶·3é×ê¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&ééè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@Hè×ê¶·32ÖÓè×ê¶·3Ñßê¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&êêè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@HĞßê¶·32ÖÓĞßê¶·3¹çê¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&ëëè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@H¸çê¶·32ÖÓ¸çê¶·3¡ïê¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&ììè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@H ïê¶·32ÖÓ ïê¶·3‰÷ê¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&ííè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@Hˆ÷ê¶·32ÖÓˆ÷ê¶·3ñşê¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&îîè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@Hğşê¶·32ÖÓğşê¶·3Ù†ë¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&ïïè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@HØ†ë¶·32ÖÓØ†ë¶·3Áë¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&ğğè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@	HÀë¶·32ÖÓÀë¶·3©–ë¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&ññè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@
H¨–ë¶·32ÖÓ¨–ë¶·3‘ë¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&òòè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@Hë¶·32ÖÓë¶·3ù¥ë¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&óóè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@Hø¥ë¶·32ÖÓø¥ë¶·3á­ë¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&ôôè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@Hà­ë¶·32ÖÓà­ë¶·3Éµë¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&õõè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@HÈµë¶·32ÖÓÈµë¶·3±½ë¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&ööè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@H°½ë¶·32ÖÓ°½ë¶·3™Åë¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&÷÷è"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@H˜Åë¶·32ÖÓ˜Åë¶·3Íë¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&øøè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@H€Íë¶·32ÖÓ€Íë¶·3éÔë¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&ùùè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@HèÔë¶·32ÖÓèÔë¶·3ÑÜë¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&úúè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@HĞÜë¶·32ÖÓĞÜë¶·3¹äë¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&ûûè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@H¸äë¶·32ÖÓ¸äë¶·3¡ìë¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&üüè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@H ìë¶·32ÖÓ ìë¶·3‰ôë¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&ııè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@Hˆôë¶·32ÖÓˆôë¶·3ñûë¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&şşè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@Hğûë¶·32ÖÓğûë¶·3Ùƒì¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&ÿÿè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@HØƒì¶·32ÖÓØƒì¶·3Á‹ì¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&€€è"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@HÀ‹ì¶·32ÖÓÀ‹ì¶·3©“ì¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&è"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@H¨“ì¶·32ÖÓ¨“ì¶·3‘›ì¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&‚‚è"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@H›ì¶·32ÖÓ›ì¶·3ù¢ì¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&ƒƒè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@Hø¢ì¶·32ÖÓø¢ì¶·3áªì¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&„„è"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@Hàªì¶·32ÖÓàªì¶·3É²ì¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&……è"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@HÈ²ì¶·32ÖÓÈ²ì¶·3±ºì¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&††è"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@H°ºì¶·32ÖÓ°ºì¶·3™Âì¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&‡‡è"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@ H˜Âì¶·32ÖÓ˜Âì¶·3Êì¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&ˆˆè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@!H€Êì¶·32ÖÓ€Êì¶·3éÑì¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&‰‰è"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@"HèÑì¶·32ÖÓèÑì¶·3ÑÙì¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&ŠŠè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@#HĞÙì¶·32ÖÓĞÙì¶·3¹áì¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&‹‹è"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@$H¸áì¶·32ÖÓ¸áì¶·3¡éì¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&ŒŒè"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@%H éì¶·32ÖÓ éì¶·3‰ñì¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&è"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@&Hˆñì¶·32ÖÓˆñì¶·3ñøì¶·3E
 fedcba9876543210fedcba9876543210opaqueBearer"authorization0(HZ"&è"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@'Hğøì¶·32ÖÓğøì¶·3Ù€í¶·3E
 0123456789abcdef0123456789abcdefopaqueBearer"authorization0(HZ"&è"worker*/opt/app/bin/worker*9
10.0.0.1:40000192.0.2.10:80plain.example *openssl2GET:/user?page=@(HØ€í¶·3