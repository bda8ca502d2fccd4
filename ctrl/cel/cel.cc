// Program's special members live here, where Node is a complete type.
#include "ctrl/cel/cel.h"

#include "ctrl/cel/ast.h"

namespace lg::ctrl::cel {

Program::Program() = default;
Program::~Program() = default;
Program::Program(Program&&) noexcept = default;
Program& Program::operator=(Program&&) noexcept = default;

}  // namespace lg::ctrl::cel
