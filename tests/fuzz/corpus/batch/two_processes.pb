
$7d6f3c2a-1b4e-4f5a-9c8d-0e1f2a3b4c5dnode-a Ä–Í∂∑3*0.1.02â
ÜÄ–Í∂∑3Ñ
 fedcba9876543210fedcba9876543210jwtBearer"authorization0(HZä?{"alg":"RS256","iss":"https://issuer.example","exp":1767229200}*»»Ë"
python3.11*/usr/bin/python3.11"8
10.0.0.1:4000010.1.2.3:8443api.internal *openssl*GET2/user?page=2÷”¸»Í∂∑3Â–Í∂∑3B
 fedcba9876543210fedcba9876543210jwtBearer"authorization0(HZ"*»»Ë"
python3.11*/usr/bin/python3.11*8
10.0.0.1:4000010.1.2.3:8443api.internal *openssl2GET:/user?page=@H‰–Í∂∑32À»‡§Ó∂∑3…¨Ó∂∑3B
 fedcba9876543210fedcba9876543210jwtBearer"authorization0(HZ"¨¨Ë"node*/usr/bin/node*9
10.0.0.1:4000010.1.2.4:443other.internal *openssl2GET:/user?page=@H»¨Ó∂∑32åâ¨ò»Í∂∑3 Ë*/usr/bin/node2node app.js:/system.slice/test.serviceB@4f1c0d2e3b4a59687766554433221100ffeeddccbbaa99887766554433221100