
$7d6f3c2a-1b4e-4f5a-9c8d-0e1f2a3b4c5dnode-a Ä–Í∂∑3*0.1.02|*zÄ–Í∂∑38
 0123456789abcdef0123456789abcdef
github_pat*ghp_0(HZ êêË"sleep*/usr/bin/sleep *GITHUB_TOKEN0ÄÛéµ∑32h*fä–Í∂∑3+
 fedcba9876543210fedcba9876543210npm0(HZëëË"node*/usr/bin/node *argv[2]0äÛéµ∑32D2Bî–Í∂∑3 0123456789abcdef0123456789abcdefok*revoked2
github_pat