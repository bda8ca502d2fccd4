#include <yaml-cpp/yaml.h>
int main() { return YAML::Load("a: 1")["a"].as<int>() == 1 ? 0 : 1; }
