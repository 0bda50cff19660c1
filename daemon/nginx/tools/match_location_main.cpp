// ngxwatch_match_location CONF [PORT]
// Reads request targets on stdin, one per line, and prints for each the location
// nginx would use in the first server of CONF (or the first server listening on
// PORT): the location as written, "(none)", "(invalid)" for a 400, or
// "(redirect) LOCATION" for nginx's automatic 301. Used by the differential test
// against a real nginx.
#include <iostream>
#include <string>

#include "nginx/location_matcher.h"
#include "nginx/nginx_config.h"
#include "nginx/server_selector.h"

using namespace ngxwatch::nginx;

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::cerr << "usage: ngxwatch_match_location CONF [PORT] < targets\n";
    return 2;
  }
  try {
    Config config = load_from_file(argv[1]);
    const Server* server = nullptr;
    if (argc == 3) {
      server = select_server(config, "127.0.0.1", static_cast<uint16_t>(std::stoi(argv[2])), "");
    } else if (!config.servers().empty()) {
      server = config.servers().front().get();
    }
    if (server == nullptr) {
      std::cerr << "no server in " << argv[1] << "\n";
      return 1;
    }
    std::string line;
    while (std::getline(std::cin, line)) {
      RequestMatch m = match_request(*server, line);
      if (!m.valid) {
        std::cout << "(invalid)\n";
      } else if (m.match.location == nullptr) {
        std::cout << "(none)\n";
      } else if (m.match.auto_redirect) {
        std::cout << "(redirect) " << m.match.location->as_written << "\n";
      } else {
        std::cout << m.match.location->as_written << "\n";
      }
    }
    std::cout.flush();
  } catch (const ConfigError& e) {
    std::cerr << e.what() << "\n";
    return 1;
  }
  return 0;
}
