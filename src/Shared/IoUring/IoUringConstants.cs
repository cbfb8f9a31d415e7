namespace KcpKestrel.IoUring;

/// <summary>Flag values from linux/io_uring.h that the ring core and its callers use.</summary>
internal static class IoUringConstants
{
    public const int SysSetup = 425;
    public const int SysEnter = 426;
    public const int SysRegister = 427;

    // io_uring_params.flags
    public const uint SetupSqPoll = 1u << 1;
    public const uint SetupCqSize = 1u << 3;
    public const uint SetupClamp = 1u << 4;
    public const uint SetupRDisabled = 1u << 6;
    public const uint SetupSubmitAll = 1u << 7;
    public const uint SetupCoopTaskRun = 1u << 8;
    public const uint SetupSingleIssuer = 1u << 12;
    public const uint SetupDeferTaskRun = 1u << 13;

    // io_uring_params.features
    public const uint FeatSingleMmap = 1u << 0;
    public const uint FeatNoDrop = 1u << 1;
    public const uint FeatFastPoll = 1u << 5;
    public const uint FeatExtArg = 1u << 8;

    // io_uring_enter flags
    public const uint EnterGetEvents = 1u << 0;
    public const uint EnterSqWakeup = 1u << 1;
    public const uint EnterExtArg = 1u << 3;

    // SQ ring flags
    public const uint SqNeedWakeup = 1u << 0;
    public const uint SqCqOverflow = 1u << 1;
    public const uint SqTaskRun = 1u << 2;

    // mmap offsets
    public const long OffSqRing = 0;
    public const long OffCqRing = 0x8000000;
    public const long OffSqes = 0x10000000;

    // io_uring_sqe.flags
    public const byte SqeIoLink = 1 << 2;
    public const byte SqeBufferSelect = 1 << 5;
    public const byte SqeCqeSkipSuccess = 1 << 6;

    // io_uring_cqe.flags
    public const uint CqeFBuffer = 1u << 0;
    public const uint CqeFMore = 1u << 1;
    public const uint CqeFSockNonEmpty = 1u << 2;
    public const uint CqeFNotif = 1u << 3;
    public const int CqeBufferShift = 16;

    // send/recv ioprio
    public const ushort RecvSendPollFirst = 1 << 0;
    public const ushort RecvMultishot = 1 << 1;
    public const ushort AcceptMultishot = 1 << 0;

    // poll_add len
    public const uint PollAddMulti = 1u << 0;

    // async cancel flags
    public const uint CancelAll = 1u << 0;
    public const uint CancelFd = 1u << 1;
    public const uint CancelAny = 1u << 2;

    // io_uring_register opcodes
    public const uint RegisterProbe = 8;
    public const uint RegisterEnableRings = 12;
    public const uint RegisterPbufRing = 22;
    public const uint UnregisterPbufRing = 23;

    // io_uring_probe_op.flags
    public const ushort OpSupported = 1 << 0;

    public const int ENOENT = 2;
    public const int EINTR = 4;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EBUSY = 16;
    public const int EINVAL = 22;
    public const int ENOSYS = 38;
    public const int ENOBUFS = 105;
    public const int ETIME = 62;
    public const int ECANCELED = 125;
    public const int EPERM = 1;
    public const int EALREADY = 114;
}
