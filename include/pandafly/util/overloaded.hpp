#pragma once
// util::Overloaded: a visitor made of lambdas, one per alternative of a
// std::variant — std::visit(util::Overloaded{[](const A&) {...}, [](const B&) {...}}, v).
namespace pandafly::util {

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

}  // namespace pandafly::util
