using System.Runtime.InteropServices;

namespace KcpKestrel.IoUring;

/// <summary>
/// struct io_uring_sqe (64 bytes) with the union members the engines use, and one preparation method
/// per request kind. Each method writes every field it depends on, after the ring zeroed the entry.
/// </summary>
[StructLayout(LayoutKind.Explicit, Size = 64)]
internal unsafe struct IoUringSqe
{
    [FieldOffset(0)] public IoUringOp Opcode;
    [FieldOffset(1)] public byte Flags;
    [FieldOffset(2)] public ushort IoPrio;
    [FieldOffset(4)] public int Fd;
    [FieldOffset(8)] public ulong Off;       // also addr2
    [FieldOffset(16)] public ulong Addr;     // also splice_off_in
    [FieldOffset(24)] public uint Len;
    [FieldOffset(28)] public uint OpFlags;   // msg_flags, rw_flags, accept_flags, cancel_flags, poll32_events, msg_ring_flags...
    [FieldOffset(32)] public ulong UserData;
    [FieldOffset(40)] public ushort BufIndex; // also buf_group
    [FieldOffset(42)] public ushort Personality;
    [FieldOffset(44)] public int SpliceFdIn; // also file_index
    [FieldOffset(48)] public ulong Addr3;
    [FieldOffset(56)] public ulong Pad2;

    public void PrepareNop(ulong userData)
    {
        Opcode = IoUringOp.Nop;
        Fd = -1;
        UserData = userData;
    }

    /// <summary>A multishot RECVMSG: each datagram lands in a buffer of <paramref name="bufferGroup"/>, headed by io_uring_recvmsg_out.</summary>
    /// <remarks><paramref name="msghdr"/> gives the room for name (msg_namelen) and control (msg_controllen) in each buffer; iovlen 0.</remarks>
    public void PrepareRecvMsgMultishot(int fd, void* msghdr, ushort bufferGroup, ulong userData)
    {
        Opcode = IoUringOp.RecvMsg;
        Fd = fd;
        Addr = (ulong)msghdr;
        Len = 1;
        IoPrio = IoUringConstants.RecvMultishot;
        Flags = IoUringConstants.SqeBufferSelect;
        BufIndex = bufferGroup;
        UserData = userData;
    }

    public void PrepareSendMsg(int fd, void* msghdr, uint msgFlags, ulong userData)
    {
        Opcode = IoUringOp.SendMsg;
        Fd = fd;
        Addr = (ulong)msghdr;
        Len = 1;
        OpFlags = msgFlags;
        UserData = userData;
    }

    /// <summary>A multishot ACCEPT: one completion per accepted connection, its result the new fd.</summary>
    public void PrepareAcceptMultishot(int fd, uint acceptFlags, ulong userData)
    {
        Opcode = IoUringOp.Accept;
        Fd = fd;
        IoPrio = IoUringConstants.AcceptMultishot;
        OpFlags = acceptFlags;
        UserData = userData;
    }

    /// <summary>A multishot RECV on a stream: one completion per buffer of <paramref name="bufferGroup"/> filled.</summary>
    public void PrepareRecvMultishot(int fd, ushort bufferGroup, ulong userData)
    {
        Opcode = IoUringOp.Recv;
        Fd = fd;
        IoPrio = IoUringConstants.RecvMultishot;
        Flags = IoUringConstants.SqeBufferSelect;
        BufIndex = bufferGroup;
        UserData = userData;
    }

    public void PrepareSend(int fd, void* buffer, uint length, uint msgFlags, ulong userData)
    {
        Opcode = IoUringOp.Send;
        Fd = fd;
        Addr = (ulong)buffer;
        Len = length;
        OpFlags = msgFlags;
        UserData = userData;
    }

    /// <summary>A zero-copy send: a result completion (with F_MORE) and later an F_NOTIF one when the buffer is free again.</summary>
    public void PrepareSendZc(int fd, void* buffer, uint length, uint msgFlags, ulong userData)
    {
        PrepareSend(fd, buffer, length, msgFlags, userData);
        Opcode = IoUringOp.SendZc;
    }

    /// <summary>The vectored zero-copy send: completions as <see cref="PrepareSendZc"/>.</summary>
    public void PrepareSendMsgZc(int fd, void* msghdr, uint msgFlags, ulong userData)
    {
        PrepareSendMsg(fd, msghdr, msgFlags, userData);
        Opcode = IoUringOp.SendMsgZc;
    }

    /// <summary>close(2) through the ring.</summary>
    public void PrepareClose(int fd, ulong userData)
    {
        Opcode = IoUringOp.Close;
        Fd = fd;
        UserData = userData;
    }

    /// <summary>Posts a completion carrying <paramref name="targetUserData"/> and <paramref name="result"/> on another ring (IORING_MSG_DATA).</summary>
    public void PrepareMsgRing(int targetRingFd, int result, ulong targetUserData, ulong userData)
    {
        Opcode = IoUringOp.MsgRing;
        Fd = targetRingFd;
        Addr = 0; // IORING_MSG_DATA
        Len = (uint)result;
        Off = targetUserData;
        UserData = userData;
    }

    /// <summary>Cancels the request(s) submitted with <paramref name="targetUserData"/> (all of them with <see cref="IoUringConstants.CancelAll"/>).</summary>
    public void PrepareCancel(ulong targetUserData, uint cancelFlags, ulong userData)
    {
        Opcode = IoUringOp.AsyncCancel;
        Fd = -1;
        Addr = targetUserData;
        OpFlags = cancelFlags;
        UserData = userData;
    }

    /// <summary>Cancels every request on <paramref name="fd"/>.</summary>
    public void PrepareCancelFd(int fd, ulong userData)
    {
        Opcode = IoUringOp.AsyncCancel;
        Fd = fd;
        OpFlags = IoUringConstants.CancelFd | IoUringConstants.CancelAll;
        UserData = userData;
    }

    public void PreparePollMultishot(int fd, uint events, ulong userData)
    {
        Opcode = IoUringOp.PollAdd;
        Fd = fd;
        OpFlags = events;
        Len = IoUringConstants.PollAddMulti;
        UserData = userData;
    }

    public void PrepareRead(int fd, void* buffer, uint length, ulong offset, ulong userData)
    {
        Opcode = IoUringOp.Read;
        Fd = fd;
        Addr = (ulong)buffer;
        Len = length;
        Off = offset;
        UserData = userData;
    }

    /// <summary>A relative timeout that completes with -ETIME after <paramref name="timespec"/> (must stay valid until then).</summary>
    public void PrepareTimeout(KernelTimespec* timespec, ulong userData)
    {
        Opcode = IoUringOp.Timeout;
        Fd = -1;
        Addr = (ulong)timespec;
        Len = 1;
        UserData = userData;
    }
}
