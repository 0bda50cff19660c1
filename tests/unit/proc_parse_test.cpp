#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <sys/socket.h>

#include "common/net_format.h"
#include "host/nginx_scan.h"
#include "host/proc_parse.h"
#include "source/reset_reasons.h"

using namespace ngxwatch;

TEST(ProcParse, NginxRolesFromTitles) {
  using std::string_literals::operator""s;
  EXPECT_EQ(classify_nginx_cmdline("nginx: master process /usr/sbin/nginx -c /etc/x.conf"),
            NginxRole::kMaster);
  EXPECT_EQ(classify_nginx_cmdline("nginx: worker process"s + '\0'), NginxRole::kWorker);
  EXPECT_EQ(classify_nginx_cmdline("nginx: worker process is shutting down"),
            NginxRole::kShuttingDown);
  EXPECT_EQ(classify_nginx_cmdline("nginx: cache manager process"), NginxRole::kHelper);
  EXPECT_EQ(classify_nginx_cmdline("nginx\0-g\0daemon off;"s), NginxRole::kSingle);
}

TEST(ProcParse, MasterArguments) {
  using std::string_literals::operator""s;
  auto a = parse_master_args("nginx: master process /usr/sbin/nginx -p /srv/n -c conf/n.conf");
  EXPECT_EQ(a.binary, "/usr/sbin/nginx");
  EXPECT_EQ(a.prefix, "/srv/n");
  EXPECT_EQ(a.conf_path, "conf/n.conf");
  auto b = parse_master_args("nginx: master process nginx"s + '\0');
  EXPECT_EQ(b.binary, "nginx");
  EXPECT_EQ(b.conf_path, "");
}

TEST(ProcParse, StatPpidSurvivesHostileComm) {
  EXPECT_EQ(parse_stat_ppid("123 (nginx) S 1 123 123 0 -1"), 1);
  EXPECT_EQ(parse_stat_ppid("124 (a) b) (c) R 77 1 1"), 77);
  EXPECT_EQ(parse_stat_ppid("garbage"), std::nullopt);
  EXPECT_EQ(parse_stat_ppid("1 (x)"), std::nullopt);
}

TEST(ProcParse, SocketLinks) {
  EXPECT_EQ(parse_socket_link("socket:[4026]"), 4026u);
  EXPECT_EQ(parse_socket_link("pipe:[4026]"), std::nullopt);
  EXPECT_EQ(parse_socket_link("socket:[12x]"), std::nullopt);
  EXPECT_EQ(parse_socket_link("socket:[]"), std::nullopt);
}

TEST(ProcParse, ProcNetTcpV4) {
  const char* text =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        "
      "0 31337 1 0000000000000000 100 0 0 10 0\n"
      "   1: 0100007F:1F90 0200007F:C350 01 00000000:00000000 00:00000000 00000000     0        "
      "0 31338 1 0000000000000000 20 4 30 10 -1\n"
      "   2: broken line\n";
  auto rows = parse_proc_net_tcp(text, AF_INET);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].state, 10u);
  EXPECT_EQ(rows[0].inode, 31337u);
  EXPECT_EQ(format_endpoint(rows[0].local), "127.0.0.1:8080");
  EXPECT_EQ(format_endpoint(rows[1].remote), "127.0.0.2:50000");
  EXPECT_EQ(rows[1].state, 1u);
}

TEST(ProcParse, ProcNetTcpV6) {
  const char* text =
      "  sl  local_address                         remote_address                        st "
      "tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
      "   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A "
      "00000000:00000000 00:00000000 00000000     0        0 999 1 0000000000000000 100 0 0 10 0\n"
      "   1: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000200007F:D431 01 "
      "00000000:00000000 00:00000000 00000000     0        0 1000 1 0000000000000000 100 0 0 10 "
      "0\n";
  auto rows = parse_proc_net_tcp(text, AF_INET6);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(format_endpoint(rows[0].local), "[::1]:80");
  EXPECT_EQ(format_endpoint(rows[1].local), "127.0.0.1:80");
  EXPECT_EQ(format_endpoint(rows[1].remote), "127.0.0.2:54321");
}

TEST(ProcParse, NginxComm) {
  EXPECT_TRUE(is_nginx_comm("nginx"));
  EXPECT_TRUE(is_nginx_comm("nginx-debug"));
  EXPECT_FALSE(is_nginx_comm("python3"));
  EXPECT_FALSE(is_nginx_comm("xnginx"));
}

TEST(ResetReasons, ParsedFromTracefsFormat) {
  const char* fmt =
      "print fmt: \"skbaddr=%p state=%s reason=%s\", REC->skbaddr, __print_symbolic(REC->state, "
      "{ 1, \"TCP_ESTABLISHED\" }), __print_symbolic(REC->reason, { 0, \"NOT_SPECIFIED\" }, { 1, "
      "\"NO_SOCKET\" }, { 12, \"TCP_ABORT_ON_LINGER\" })";
  auto m = parse_print_symbolic(fmt, "reason");
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[12], "TCP_ABORT_ON_LINGER");
  ResetReasons r(m);
  EXPECT_EQ(r.name(1), "NO_SOCKET");
  EXPECT_EQ(r.name(77), "reason_77");
  EXPECT_EQ(r.name(NGXW_REASON_NONE), "");
  EXPECT_TRUE(parse_print_symbolic(fmt, "missing").empty());
  EXPECT_TRUE(
      parse_print_symbolic("__print_symbolic(REC->reason, { 1, \"unterminated", "reason").empty());
}
