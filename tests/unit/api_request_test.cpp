// The API's request handling and the server around it: bad requests get an error
// reply and the server keeps serving; the socket is created with mode 0660.
#include <gtest/gtest.h>

#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <chrono>
#include <filesystem>
#include <thread>

#include "api/api_request.h"
#include "api/api_server.h"
#include "top/top_client.h"

using namespace ngxwatch;
using nlohmann::json;

namespace {

ApiRoutes routes() {
  return {{"snapshot", [] { return json{{"version", 1}, {"rows", json::array()}}; }}};
}

json reply(std::string_view line) { return json::parse(handle_api_request(line, routes())); }

// A raw client: sends bytes, reads one line (or "" when the server closed first).
std::string talk(const std::string& path, const std::string& bytes) {
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  std::strncpy(a.sun_path, path.c_str(), sizeof(a.sun_path) - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    close(fd);
    return "connect failed";
  }
  (void)!send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  std::string in;
  char buf[4096];
  while (in.find('\n') == std::string::npos) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 3000) <= 0) break;
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    in.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return in.substr(0, in.find('\n'));
}

}  // namespace

TEST(ApiRequest, ValidAndInvalidRequests) {
  EXPECT_EQ(reply(R"({"get":"snapshot"})")["version"], 1);
  EXPECT_TRUE(reply("not json at all").contains("error"));
  EXPECT_TRUE(reply("[1,2]").contains("error"));
  EXPECT_TRUE(reply(R"({"get":42})").contains("error"));
  EXPECT_TRUE(reply(R"({"put":"snapshot"})").contains("error"));
  auto unknown = reply(R"({"get":"passwords?token=secret"})");
  ASSERT_TRUE(unknown.contains("error"));
  EXPECT_EQ(unknown.dump().find("secret"), std::string::npos);  // not echoed
  EXPECT_TRUE(reply(std::string(5000, 'x')).contains("error"));
}

TEST(ApiServer, SurvivesBadClientsAndUsesMode0660) {
  auto dir = std::filesystem::temp_directory_path() / ("ngxwatch-api-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "api.sock").string();
  ApiServer server;
  ASSERT_EQ(server.start(path, routes()), "");
  struct stat st;
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);

  EXPECT_TRUE(json::parse(talk(path, "hello\n")).contains("error"));
  EXPECT_TRUE(json::parse(talk(path, std::string(8192, 'a'))).contains("error"));
  EXPECT_TRUE(json::parse(talk(path, "{\"get\":\"nope\"}\n")).contains("error"));
  EXPECT_EQ(json::parse(talk(path, "{\"get\":\"snapshot\"}\n"))["version"], 1);

  // A second daemon must not steal a live socket.
  ApiServer second;
  EXPECT_NE(second.start(path, routes()), "");

  TopClient client(path);
  std::string err;
  auto snap = client.get("snapshot", &err);
  ASSERT_TRUE(snap) << err;
  server.stop();
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_FALSE(client.get("snapshot", &err));
  // Restarted daemon: the same client reconnects by itself.
  ApiServer again;
  ASSERT_EQ(again.start(path, routes()), "");
  EXPECT_TRUE(client.get("snapshot", &err)) << err;
  again.stop();
  std::filesystem::remove_all(dir);
}

// A slow resource (suggest: nginx -t per change) must not hold up snapshots: top asks
// twice a second while a suggest request is being made.
TEST(ApiServer, SlowRouteDoesNotBlockOthers) {
  auto dir =
      std::filesystem::temp_directory_path() / ("ngxwatch-api-slow-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::string path = (dir / "api.sock").string();
  ApiRoutes r = routes();
  r["suggest"] = [] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return json{{"items", 2}};
  };
  ApiServer server;
  ASSERT_EQ(server.start(path, r, {}, {"suggest"}), "");
  std::string slow_reply;
  std::thread slow([&] { slow_reply = talk(path, "{\"get\":\"suggest\"}\n"); });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));  // suggest is under way
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(json::parse(talk(path, "{\"get\":\"snapshot\"}\n"))["version"], 1);
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(took, std::chrono::milliseconds(500)) << "snapshot waited for suggest";
  slow.join();
  EXPECT_EQ(json::parse(slow_reply)["items"], 2);
  // Pipelined on one connection: replies keep the request order.
  EXPECT_EQ(json::parse(talk(path, "{\"get\":\"suggest\"}\n{\"get\":\"snapshot\"}\n"))["items"], 2);
  server.stop();
  std::filesystem::remove_all(dir);
}
