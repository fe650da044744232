// SHA-256 from OpenSSL's libcrypto, which libcurl already loads: the hashes of
// collection files and response bodies, fast and the same as `sha256sum`.
#include <openssl/evp.h>
#include <openssl/sha.h>
