/* Arguments and return values from a probe's saved registers (uprobes, kprobes).
 * bpf_tracing.h's PT_REGS_* macros want the arch's user_pt_regs type on arm64; these
 * read our CO-RE pt_regs (core_types.h) instead. */
#ifndef NGXWATCH_BPF_REGS_H
#define NGXWATCH_BPF_REGS_H

#include "core_types.h"
#include <bpf/bpf_core_read.h>

#if defined(__TARGET_ARCH_x86)
#define REG_ARG1(ctx) BPF_CORE_READ(ctx, di)
#define REG_ARG2(ctx) BPF_CORE_READ(ctx, si)
#define REG_RET(ctx) BPF_CORE_READ(ctx, ax)
#else
#define REG_ARG1(ctx) BPF_CORE_READ(ctx, regs[0])
#define REG_ARG2(ctx) BPF_CORE_READ(ctx, regs[1])
#define REG_RET(ctx) BPF_CORE_READ(ctx, regs[0])
#endif

#endif /* NGXWATCH_BPF_REGS_H */
