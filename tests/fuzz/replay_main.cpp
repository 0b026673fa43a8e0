// Replays a fuzz corpus through LLVMFuzzerTestOneInput without libFuzzer, so
// ctest checks every checked-in input on every build (any compiler).
// Usage: fuzz_target DIR_OR_FILE...
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void run_file(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  const std::vector<char> bytes((std::istreambuf_iterator<char>(f)),
                                std::istreambuf_iterator<char>());
  (void)LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t n = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (std::filesystem::is_directory(arg)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(arg)) {
        if (!e.is_regular_file()) continue;
        run_file(e.path());
        ++n;
      }
    } else {
      run_file(arg);
      ++n;
    }
  }
  std::cout << "replayed " << n << " inputs\n";
  return n == 0 ? 1 : 0;  // an empty corpus is a broken test, not a pass
}
