#pragma once
// xml_escape: text as an XML attribute value between double quotes. Escapes
// & < > " ' and the whitespace an attribute value would otherwise normalise
// away (tab, newline, carriage return: as character references), so a parser
// gives back exactly `text`. Pure; used by the layout printer (dx) and the
// PandA simulator's data header.
#include <string>
#include <string_view>

namespace pandafly::util {

[[nodiscard]] inline std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      case '\t':
        out += "&#9;";
        break;
      case '\n':
        out += "&#10;";
        break;
      case '\r':
        out += "&#13;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace pandafly::util
