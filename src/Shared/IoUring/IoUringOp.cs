namespace KcpKestrel.IoUring;

/// <summary>The io_uring opcodes the engines use (enum io_uring_op in linux/io_uring.h).</summary>
internal enum IoUringOp : byte
{
    Nop = 0,
    PollAdd = 6,
    SendMsg = 9,
    RecvMsg = 10,
    Timeout = 11,
    Close = 19,
    Accept = 13,
    AsyncCancel = 14,
    Read = 22,
    Send = 26,
    Recv = 27,
    MsgRing = 40,
    SendZc = 47,
    SendMsgZc = 48,
}
