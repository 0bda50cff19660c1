// The one line a verifier rejection becomes: which program, and the verifier's words.
#include "source/load_log.h"

#include <gtest/gtest.h>

namespace ngxwatch {
namespace {

TEST(LoadLog, NamesTheRejectedProgramAndTheVerifierCause) {
  LoadLog log;
  log.add("libbpf: map 'conns': created successfully, fd=4\n");
  log.add("libbpf: prog 'temp_write_exit': BPF program load failed: Invalid argument\n");
  log.add(
      "libbpf: prog 'temp_write_exit': -- BEGIN PROG LOAD LOG --\n"
      "0: R1=ctx(off=0,imm=0) R10=fp0\n"
      "back-edge from insn 51 to 52\n"
      "processed 0 insns (limit 1000000) max_states_per_insn 0 total_states 0\n"
      "-- END PROG LOAD LOG --\n");
  log.add("libbpf: failed to load program 'temp_write_exit'\n");
  LoadFailure f = log.failure();
  EXPECT_EQ(f.program, "temp_write_exit");
  ASSERT_FALSE(f.verifier_tail.empty());
  EXPECT_EQ(f.verifier_tail.back(), "back-edge from insn 51 to 52");
  EXPECT_EQ(one_line(f), "0: R1=ctx(off=0,imm=0) R10=fp0; back-edge from insn 51 to 52");
}

TEST(LoadLog, KeepsTheTooLargeVerdict) {
  LoadLog log;
  log.add("prog 'btf_recv_length': BPF program load failed: Argument list too long\n");
  log.add("prog 'btf_recv_length': -- BEGIN PROG LOAD LOG --\n");
  log.add("BPF program is too large. Processed 1000001 insn\n");
  log.add("processed 1000001 insns (limit 1000000) max_states_per_insn 4\n");
  log.add("-- END PROG LOAD LOG --\n");
  LoadFailure f = log.failure(1);
  EXPECT_EQ(f.program, "btf_recv_length");
  ASSERT_EQ(f.verifier_tail.size(), 1u);
  EXPECT_EQ(f.verifier_tail[0], "BPF program is too large. Processed 1000001 insn");
}

TEST(LoadLog, AFailureWithoutVerifierLogStillNamesTheProgram) {
  LoadLog log;
  log.add("libbpf: prog 'fentry_sendmsg': failed to load: -1\n");
  LoadFailure f = log.failure();
  EXPECT_EQ(f.program, "fentry_sendmsg");
  EXPECT_TRUE(f.verifier_tail.empty());
  EXPECT_EQ(one_line(f), "");
}

TEST(LoadLog, NothingFailedNothingNamed) {
  LoadLog log;
  log.add("libbpf: map 'events': created successfully, fd=5\n");
  EXPECT_EQ(log.failure().program, "");
  EXPECT_EQ(program_named_in("prog 'x"), "");
}

}  // namespace
}  // namespace ngxwatch
