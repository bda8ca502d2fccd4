#include <grpcpp/grpcpp.h>
#include <cstdio>
int main() { return std::printf("grpc++ %s\n", grpc::Version().c_str()) < 0; }
