// SPDX-License-Identifier: (BSD-2-Clause OR GPL-2.0-only)
/*
 * tokentap capture programs. One object so one skeleton loads them all;
 * each capture source lives in its own header.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "tokentap.h"
#include "maps.bpf.h"
#include "sock.bpf.h"
#include "capture.bpf.h"
#include "close.bpf.h"
#include "uncovered.bpf.h"
#include "tls.bpf.h"
#include "rustls.bpf.h"
#include "gotls.bpf.h"
#include "goh2.bpf.h"
#include "javatls.bpf.h"
#include "plaintext.bpf.h"
#include "proc.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";
