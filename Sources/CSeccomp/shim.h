/* libseccomp (Debian's libseccomp-dev), with its action macros as functions for Swift. */
#ifndef BERTH_SECCOMP_SHIM_H
#define BERTH_SECCOMP_SHIM_H
#include <seccomp.h>
#include <stdint.h>

static inline uint32_t berth_scmp_act_kill_thread(void) { return SCMP_ACT_KILL_THREAD; }
static inline uint32_t berth_scmp_act_kill_process(void) { return SCMP_ACT_KILL_PROCESS; }
static inline uint32_t berth_scmp_act_trap(void) { return SCMP_ACT_TRAP; }
static inline uint32_t berth_scmp_act_allow(void) { return SCMP_ACT_ALLOW; }
static inline uint32_t berth_scmp_act_log(void) { return SCMP_ACT_LOG; }
static inline uint32_t berth_scmp_act_errno(uint16_t value) { return SCMP_ACT_ERRNO(value); }
static inline uint32_t berth_scmp_act_trace(uint16_t value) { return SCMP_ACT_TRACE(value); }
static inline uint32_t berth_scmp_act_notify(void) { return SCMP_ACT_NOTIFY; }
/* SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: libseccomp 2.6 and later know it; older ones
 * (Debian 12 has 2.5.4) return -EOPNOTSUPP. */
static inline int berth_scmp_set_wait_killable(scmp_filter_ctx context) {
#ifdef SCMP_FLTATR_CTL_WAITKILL
    return seccomp_attr_set(context, SCMP_FLTATR_CTL_WAITKILL, 1);
#else
    (void)context;
    return -95;
#endif
}
static inline int berth_scmp_arg(struct scmp_arg_cmp *into, unsigned int index, int op, uint64_t a, uint64_t b) {
    into->arg = index;
    into->op = (enum scmp_compare)op;
    into->datum_a = a;
    into->datum_b = b;
    return 0;
}
#endif
