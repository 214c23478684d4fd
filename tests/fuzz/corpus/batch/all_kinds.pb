
$7d6f3c2a-1b4e-4f5a-9c8d-0e1f2a3b4c5dnode-a €Ðê¶·3*0.1.02Ê
Ç€Ðê¶·3O
 0123456789abcdef0123456789abcdef
github_patBearer"authorization*ghp_0(HZddè"curl*/usr/bin/curl"=
10.0.0.1:40000140.82.112.6:443api.github.com *openssl*GET2/user?page=2Ú×ŒÌê¶·3õÓê¶·3O
 0123456789abcdef0123456789abcdef
github_patBearer"authorization*ghp_0(HZ"ddè"curl*/usr/bin/curl*=
10.0.0.1:40000140.82.112.6:443api.github.com *openssl2GET:/user?page=@HôÓê¶·32dbdø¨ê¶·3 è*/usr/bin/curl2'curl -H *** https://api.github.com/user:/system.slice/test.service2"è×ê¶·3 0*