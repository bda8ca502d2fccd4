#include <nlohmann/json.hpp>
int main() { return nlohmann::json::parse(R"({"a":1})")["a"] == 1 ? 0 : 1; }
