#!/usr/bin/python3
"""Runs a command under the seccomp filter that rollcall.service asks systemd for.

Usage: seccomp-exec.py [--mdwe] -- COMMAND [ARGS...]

Outside systemd this is the closest reproduction of the unit's system-call options, so
the hardening test can run the real daemon under them:

  SystemCallFilter=@system-service + ~@privileged  allow list from systemd-analyze itself
  SystemCallErrorNumber=EPERM                      what any other call returns
  SystemCallArchitectures=native                   other ABIs (x32, i386) kill the process
  RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 socket() of any other family: EAFNOSUPPORT
  RestrictNamespaces=yes                           unshare/setns, clone with CLONE_NEW*: EPERM;
                                                   clone3: ENOSYS (libc falls back to clone)
  RestrictRealtime=yes                             SCHED_FIFO/RR/DEADLINE: EPERM
  RestrictSUIDSGID=yes                             chmod family setting S_ISUID/S_ISGID: EPERM
  LockPersonality=yes                              personality() other than query/current: EPERM
  ProtectClock=yes (its seccomp part)              @clock is in @privileged, so denied

For finding out what a change makes the daemon call: SECCOMP_EXEC_KILL=1 kills the
process on a call outside the list instead of returning EPERM (the kernel logs the call
number), and SECCOMP_EXEC_ALLOW=name,name adds calls to the list.

--mdwe sets the kernel's own MemoryDenyWriteExecute (prctl PR_SET_MDWE, Linux 6.3+), to
show why the unit leaves that option out. The caller must already have set no_new_privs
(setpriv --no-new-privs), as systemd does for a unit with a filter and a User=.

Only x86-64 is handled; elsewhere the script exits 77 and the test skips.
"""
import ctypes
import os
import platform
import re
import struct
import subprocess
import sys

PR_SET_SECCOMP = 22
PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1
SECCOMP_MODE_FILTER = 2

SECCOMP_RET_KILL_PROCESS = 0x80000000
SECCOMP_RET_ERRNO = 0x00050000
SECCOMP_RET_ALLOW = 0x7FFF0000

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000

EPERM, ENOSYS, EAFNOSUPPORT = 1, 38, 97
AF_UNIX, AF_INET, AF_INET6 = 1, 2, 10
CLONE_NEW_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x00000080
SCHED_FIFO, SCHED_RR, SCHED_DEADLINE = 1, 2, 6
S_ISUID_ISGID = 0o6000

# BPF opcodes
LD_W_ABS = 0x20
JEQ_K = 0x15
JSET_K = 0x45
JGE_K = 0x35
RET_K = 0x06

# offsets in struct seccomp_data
NR, ARCH = 0, 4


def arg_lo(i):
    return 16 + 8 * i


HEADER = '/usr/include/x86_64-linux-gnu/asm/unistd_64.h'


def syscall_numbers():
    numbers = {}
    with open(HEADER) as header:
        for line in header:
            match = re.match(r'#define __NR_(\w+) (\d+)', line)
            if match:
                numbers[match.group(1)] = int(match.group(2))
    return numbers


def expand(group, groups, seen=None):
    """Names in a systemd syscall group, nested groups included."""
    seen = seen if seen is not None else set()
    names = set()
    for item in groups.get(group, []):
        if item.startswith('@'):
            if item not in seen:
                seen.add(item)
                names |= expand(item, groups, seen)
        else:
            names.add(item)
    return names


def systemd_groups():
    """Every group `systemd-analyze syscall-filter` knows, as systemd itself defines them."""
    out = subprocess.run(['systemd-analyze', 'syscall-filter', '--no-pager'], check=True, capture_output=True, text=True).stdout
    groups, current = {}, None
    for line in out.splitlines():
        if line.startswith('@'):
            current = line.split()[0]
            groups[current] = []
        elif current and line.strip() and not line.strip().startswith('#'):
            groups[current].append(line.split()[0])
    return groups


def stmt(code, k):
    return (code, 0, 0, k)


def jump(code, k, jt, jf):
    return (code, jt, jf, k)


def ret(action):
    return stmt(RET_K, action)


def errno(value):
    return ret(SECCOMP_RET_ERRNO | value)


def arg_checks(nr, checks):
    """For syscall `nr`: each check is (arg, op, k, action); falls through to ALLOW."""
    body = []
    for arg, op, k, action in checks:
        body.append(stmt(LD_W_ABS, arg_lo(arg)))
        if op == 'in':
            # action unless the argument is one of k
            for i, value in enumerate(k):
                remaining = len(k) - i - 1
                body.append(jump(JEQ_K, value, remaining + 1, 0))
            body.append(ret(action))
        elif op == 'eq':
            body.append(jump(JEQ_K, k, 0, 1))
            body.append(ret(action))
        elif op == 'set':
            body.append(jump(JSET_K, k, 0, 1))
            body.append(ret(action))
    body.append(ret(SECCOMP_RET_ALLOW))
    # if nr matches run the body, else skip it; the body ends with a return
    return [stmt(LD_W_ABS, NR), jump(JEQ_K, nr, 0, len(body))] + body


def build_filter():
    numbers = syscall_numbers()
    groups = systemd_groups()
    allowed = expand('@system-service', groups) - expand('@privileged', groups)
    allowed |= set(filter(None, os.environ.get('SECCOMP_EXEC_ALLOW', '').split(',')))
    allowed_numbers = sorted({numbers[name] for name in allowed if name in numbers})

    program = [
        stmt(LD_W_ABS, ARCH),
        jump(JEQ_K, AUDIT_ARCH_X86_64, 1, 0),
        ret(SECCOMP_RET_KILL_PROCESS),
        stmt(LD_W_ABS, NR),
        jump(JGE_K, X32_SYSCALL_BIT, 0, 1),
        ret(SECCOMP_RET_KILL_PROCESS),
    ]
    special = {
        numbers['socket']: [(0, 'in', [AF_UNIX, AF_INET, AF_INET6], SECCOMP_RET_ERRNO | EAFNOSUPPORT)],
        numbers['clone']: [(0, 'set', CLONE_NEW_FLAGS, SECCOMP_RET_ERRNO | EPERM)],
        numbers['personality']: [(0, 'in', [0, 0xFFFFFFFF], SECCOMP_RET_ERRNO | EPERM)],
        numbers['sched_setscheduler']: [(1, 'eq', SCHED_FIFO, SECCOMP_RET_ERRNO | EPERM), (1, 'eq', SCHED_RR, SECCOMP_RET_ERRNO | EPERM), (1, 'eq', SCHED_DEADLINE, SECCOMP_RET_ERRNO | EPERM)],
        numbers['chmod']: [(1, 'set', S_ISUID_ISGID, SECCOMP_RET_ERRNO | EPERM)],
        numbers['fchmod']: [(1, 'set', S_ISUID_ISGID, SECCOMP_RET_ERRNO | EPERM)],
        numbers['fchmodat']: [(2, 'set', S_ISUID_ISGID, SECCOMP_RET_ERRNO | EPERM)],
    }
    for nr, checks in special.items():
        if nr in allowed_numbers:
            program += arg_checks(nr, checks)
    program += [stmt(LD_W_ABS, NR)]
    # clone3 cannot be inspected (its flags are behind a pointer): ENOSYS makes libc use clone.
    program += [jump(JEQ_K, numbers['clone3'], 0, 1), errno(ENOSYS)]
    for nr in (numbers['unshare'], numbers['setns']):
        program += [jump(JEQ_K, nr, 0, 1), errno(EPERM)]
    for nr in allowed_numbers:
        program += [jump(JEQ_K, nr, 0, 1), ret(SECCOMP_RET_ALLOW)]
    program.append(ret(SECCOMP_RET_KILL_PROCESS) if os.environ.get("SECCOMP_EXEC_KILL") else errno(EPERM))
    if len(program) > 4096:
        raise SystemExit(f'filter too long: {len(program)} instructions')
    return program


def install(program):
    raw = b''.join(struct.pack('HBBI', code, jt, jf, k) for code, jt, jf, k in program)
    buffer = ctypes.create_string_buffer(raw)

    class SockFprog(ctypes.Structure):
        _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]

    fprog = SockFprog(len(program), ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), 'prctl(PR_SET_SECCOMP)')


def set_mdwe():
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), 'prctl(PR_SET_MDWE)')


def main(argv):
    if platform.machine() != 'x86_64' or not os.path.exists(HEADER):
        print('seccomp-exec: only x86-64 with linux-libc-dev is handled', file=sys.stderr)
        return 77
    mdwe = '--mdwe' in argv[: argv.index('--')] if '--' in argv else False
    if '--' not in argv or argv.index('--') == len(argv) - 1:
        print(__doc__, file=sys.stderr)
        return 64
    command = argv[argv.index('--') + 1:]
    program = build_filter()
    if mdwe:
        set_mdwe()
    install(program)
    os.execv(command[0], command)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
