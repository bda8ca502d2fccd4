// RE2 (libre2-dev): CEL's matches() and the regex validator's syntax check.
#include <re2/re2.h>

int main() { return RE2::FullMatch("linegate", "line.*") ? 0 : 1; }
