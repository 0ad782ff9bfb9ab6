// What a crash leaves for its bug report. On a fatal signal (SIGSEGV, SIGBUS, SIGILL, SIGFPE,
// SIGABRT) mlspeed writes one line naming the signal and the stack as glibc's backtrace() sees it
// (each frame's library and offset: `addr2line -Cfe build/mlspeed 0xOFFSET` turns mlspeed's own
// into functions), then lets the signal take its default action, so that the exit status and any
// core dump are what they would have been. Only async-signal-safe calls run in the handler, on a
// stack of its own (a stack overflow is a SIGSEGV too).
#pragma once

namespace mlspeed::cli {

void install_crash_report();

}  // namespace mlspeed::cli
