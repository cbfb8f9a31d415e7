using System.Runtime.InteropServices;

namespace KcpKestrel.IoUring;

/// <summary>struct io_sqring_offsets (40 bytes): where the SQ ring's fields sit in its mapping.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoSqRingOffsets
{
    public uint Head;
    public uint Tail;
    public uint RingMask;
    public uint RingEntries;
    public uint Flags;
    public uint Dropped;
    public uint Array;
    public uint Resv1;
    public ulong UserAddr;
}

/// <summary>struct io_cqring_offsets (40 bytes): where the CQ ring's fields sit in its mapping.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoCqRingOffsets
{
    public uint Head;
    public uint Tail;
    public uint RingMask;
    public uint RingEntries;
    public uint Overflow;
    public uint Cqes;
    public uint Flags;
    public uint Resv1;
    public ulong UserAddr;
}

/// <summary>struct io_uring_params (120 bytes), in and out of io_uring_setup.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoUringParams
{
    public uint SqEntries;
    public uint CqEntries;
    public uint Flags;
    public uint SqThreadCpu;
    public uint SqThreadIdle;
    public uint Features;
    public uint WqFd;
    public fixed uint Resv[3];
    public IoSqRingOffsets SqOff;
    public IoCqRingOffsets CqOff;
}

/// <summary>struct io_uring_cqe without the CQE32 extension (16 bytes).</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringCqe
{
    public ulong UserData;
    public int Res;
    public uint Flags;

    /// <summary>The provided buffer id, valid when <see cref="IoUringConstants.CqeFBuffer"/> is set.</summary>
    public readonly ushort BufferId => (ushort)(Flags >> IoUringConstants.CqeBufferShift);

    public readonly bool HasBuffer => (Flags & IoUringConstants.CqeFBuffer) != 0;

    /// <summary>True while a multishot request stays armed; false on its last completion.</summary>
    public readonly bool HasMore => (Flags & IoUringConstants.CqeFMore) != 0;

    /// <summary>The zero-copy notification that the kernel is done with a SEND_ZC buffer.</summary>
    public readonly bool IsNotification => (Flags & IoUringConstants.CqeFNotif) != 0;
}

/// <summary>struct io_uring_getevents_arg (24 bytes), for io_uring_enter with IORING_ENTER_EXT_ARG.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringGetEventsArg
{
    public ulong SigMask;
    public uint SigMaskSize;
    public uint MinWaitUsec;
    public ulong Ts;
}

/// <summary>struct __kernel_timespec.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct KernelTimespec
{
    public long Seconds;
    public long Nanoseconds;
}

/// <summary>struct io_uring_buf_reg (40 bytes), for IORING_REGISTER_PBUF_RING.</summary>
[StructLayout(LayoutKind.Sequential)]
internal unsafe struct IoUringBufReg
{
    public ulong RingAddr;
    public uint RingEntries;
    public ushort Bgid;
    public ushort Flags;
    public fixed ulong Resv[3];
}

/// <summary>struct io_uring_buf (16 bytes): one entry of a provided-buffer ring. Entry 0's last two bytes are the ring's tail.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringBuf
{
    public ulong Addr;
    public uint Len;
    public ushort Bid;
    public ushort Resv;
}

/// <summary>struct io_uring_recvmsg_out (16 bytes): heads each buffer a multishot RECVMSG fills, before name, control and payload.</summary>
[StructLayout(LayoutKind.Sequential)]
internal struct IoUringRecvMsgOut
{
    public uint NameLength;
    public uint ControlLength;
    public uint PayloadLength;
    public uint Flags;
}
