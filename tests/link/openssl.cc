#include <openssl/crypto.h>
#include <cstdio>
int main() { return std::puts(OpenSSL_version(OPENSSL_VERSION)) < 0; }
