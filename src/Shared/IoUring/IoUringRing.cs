using System.Runtime.CompilerServices;

namespace KcpKestrel.IoUring;

/// <summary>
/// One io_uring instance: the SQ ring, CQ ring and SQE array mapped once (IORING_FEAT_SINGLE_MMAP:
/// one mapping holds both rings), SQEs handed out from the local tail and published with a release
/// store, CQEs read up to the kernel's tail with an acquire load. Not thread-safe: one owner thread,
/// which with <see cref="IoUringRingOptions.SingleIssuer"/> must be the thread that created it.
/// </summary>
internal sealed unsafe class IoUringRing : IDisposable
{
    private readonly byte* _rings;
    private readonly nuint _ringsSize;
    private readonly IoUringSqe* _sqes;
    private readonly nuint _sqesSize;
    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint* _sqFlags;
    private readonly uint _sqMask;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint* _cqOverflow;
    private readonly IoUringCqe* _cqes;
    private readonly uint _cqMask;
    private uint _sqeTail;
    private uint _submittedTail;
    private bool _disposed;

    private IoUringRing(int fd, in IoUringParams p, byte* rings, nuint ringsSize, IoUringSqe* sqes, nuint sqesSize)
    {
        Fd = fd;
        Features = p.Features;
        SetupFlags = p.Flags;
        SqEntries = p.SqEntries;
        CqEntries = p.CqEntries;
        _rings = rings;
        _ringsSize = ringsSize;
        _sqes = sqes;
        _sqesSize = sqesSize;
        _sqHead = (uint*)(rings + p.SqOff.Head);
        _sqTail = (uint*)(rings + p.SqOff.Tail);
        _sqFlags = (uint*)(rings + p.SqOff.Flags);
        _sqMask = *(uint*)(rings + p.SqOff.RingMask);
        _cqHead = (uint*)(rings + p.CqOff.Head);
        _cqTail = (uint*)(rings + p.CqOff.Tail);
        _cqOverflow = (uint*)(rings + p.CqOff.Overflow);
        _cqes = (IoUringCqe*)(rings + p.CqOff.Cqes);
        _cqMask = *(uint*)(rings + p.CqOff.RingMask);

        // The index array maps ring slots to SQEs; keeping it the identity means only the tail moves.
        var array = (uint*)(rings + p.SqOff.Array);
        for (uint i = 0; i < p.SqEntries; i++)
        {
            array[i] = i;
        }

        _sqeTail = _submittedTail = *_sqTail;
        Enabled = (p.Flags & IoUringConstants.SetupRDisabled) == 0;
    }

    public int Fd { get; }

    /// <summary>IORING_FEAT_* bits the kernel reported.</summary>
    public uint Features { get; }

    /// <summary>The IORING_SETUP_* flags the ring was made with (after any fallback).</summary>
    public uint SetupFlags { get; }

    public uint SqEntries { get; }

    public uint CqEntries { get; }

    public bool DeferTaskRun => (SetupFlags & IoUringConstants.SetupDeferTaskRun) != 0;

    public bool SqPoll => (SetupFlags & IoUringConstants.SetupSqPoll) != 0;

    /// <summary>False for a ring made with <see cref="IoUringRingOptions.StartDisabled"/> until <see cref="Enable"/>: it cannot be entered yet.</summary>
    public bool Enabled { get; private set; }

    /// <summary>SQEs prepared and not yet handed to the kernel.</summary>
    public uint Unsubmitted => _sqeTail - _submittedTail;

    /// <summary>CQEs the kernel could not fit in the CQ ring and holds back (IORING_FEAT_NODROP) until the next enter.</summary>
    public bool CqOverflowPending => (Volatile.Read(ref *_sqFlags) & IoUringConstants.SqCqOverflow) != 0;

    /// <summary>CQEs lost to overflow on kernels without IORING_FEAT_NODROP.</summary>
    public uint CqOverflowCount => Volatile.Read(ref *_cqOverflow);

    /// <summary>Times <see cref="GetSqe"/> found the submission queue full and submitted mid-batch to free entries.</summary>
    public long SqFullSubmits { get; private set; }

    /// <summary>Times an enter found completions held back by overflow (<see cref="CqOverflowPending"/>) and had them flushed in.</summary>
    public long CqOverflowFlushes { get; private set; }

    /// <summary>
    /// Sets a ring up, falling back from SINGLE_ISSUER + DEFER_TASKRUN to COOP_TASKRUN to none when the
    /// kernel refuses them (EINVAL). Throws <see cref="IoUringUnavailableException"/> with the reason when no ring can be made.
    /// </summary>
    public static IoUringRing Create(IoUringRingOptions options)
    {
        if (!IoUringSyscalls.ArchitectureKnown)
        {
            throw new IoUringUnavailableException("io_uring needs Linux on x86-64 or arm64");
        }

        var baseFlags = IoUringConstants.SetupClamp | IoUringConstants.SetupSubmitAll;
        if (options.CompletionEntries > 0)
        {
            baseFlags |= IoUringConstants.SetupCqSize;
        }

        if (options.SqPoll)
        {
            baseFlags |= IoUringConstants.SetupSqPoll;
        }

        if (options.StartDisabled)
        {
            baseFlags |= IoUringConstants.SetupRDisabled;
        }

        ReadOnlySpan<uint> attempts = options.SingleIssuer && !options.SqPoll
            ? [IoUringConstants.SetupSingleIssuer | IoUringConstants.SetupDeferTaskRun, IoUringConstants.SetupCoopTaskRun, 0]
            : [0];
        var fd = -IoUringConstants.EINVAL;
        IoUringParams p = default;
        foreach (var extra in attempts)
        {
            p = default;
            p.Flags = baseFlags | extra;
            p.CqEntries = options.CompletionEntries;
            p.SqThreadIdle = options.SqPollIdleMs;
            fd = IoUringSyscalls.Setup(options.Entries, &p);
            if (fd != -IoUringConstants.EINVAL)
            {
                break;
            }
        }

        if (fd < 0)
        {
            throw new IoUringUnavailableException(IoUringUnavailableException.DescribeSetupError(-fd));
        }

        if ((p.Features & IoUringConstants.FeatSingleMmap) == 0)
        {
            _ = IoUringSyscalls.close(fd);
            throw new IoUringUnavailableException("the kernel lacks IORING_FEAT_SINGLE_MMAP (Linux 5.4)");
        }

        var sqSize = p.SqOff.Array + (p.SqEntries * sizeof(uint));
        var cqSize = p.CqOff.Cqes + (p.CqEntries * (uint)sizeof(IoUringCqe));
        var ringsSize = (nuint)Math.Max(sqSize, cqSize);
        var rings = IoUringSyscalls.Map(fd, ringsSize, IoUringConstants.OffSqRing, out var errno);
        var sqesSize = (nuint)(p.SqEntries * (uint)sizeof(IoUringSqe));
        var sqes = rings == null ? null : IoUringSyscalls.Map(fd, sqesSize, IoUringConstants.OffSqes, out errno);
        if (sqes == null)
        {
            IoUringSyscalls.Unmap(rings, ringsSize);
            _ = IoUringSyscalls.close(fd);
            throw new IoUringUnavailableException($"mmap of the io_uring rings failed: errno {errno}");
        }

        return new IoUringRing(fd, p, rings, ringsSize, (IoUringSqe*)sqes, sqesSize);
    }

    /// <summary>
    /// Enables a ring made disabled; the calling thread becomes its single issuer. Throws
    /// <see cref="IoUringUnavailableException"/> when the kernel refuses.
    /// </summary>
    public void Enable()
    {
        if (Enabled)
        {
            return;
        }

        var r = IoUringSyscalls.Register(Fd, IoUringConstants.RegisterEnableRings, null, 0);
        if (r < 0)
        {
            throw new IoUringUnavailableException($"IORING_REGISTER_ENABLE_RINGS failed: errno {-r}");
        }

        Enabled = true;
    }

    /// <summary>A zeroed SQE to prepare, or false when the submission queue is full.</summary>
    public bool TryGetSqe(out IoUringSqe* sqe)
    {
        // The kernel moves the head as it consumes entries (its own thread under SQPOLL): acquire.
        var head = Volatile.Read(ref *_sqHead);
        if (_sqeTail - head >= SqEntries)
        {
            sqe = null;
            return false;
        }

        sqe = &_sqes[_sqeTail & _sqMask];
        Unsafe.InitBlockUnaligned(sqe, 0, (uint)sizeof(IoUringSqe));
        _sqeTail++;
        return true;
    }

    /// <summary>A zeroed SQE; when the queue is full, submits what is queued first and takes a freed entry.</summary>
    public IoUringSqe* GetSqe()
    {
        IoUringSqe* sqe;
        while (!TryGetSqe(out sqe))
        {
            SqFullSubmits++;
            var r = Submit();
            if (r < 0 && r != -IoUringConstants.EINTR && r != -IoUringConstants.EAGAIN && r != -IoUringConstants.EBUSY)
            {
                throw new InvalidOperationException($"io_uring_enter failed: errno {-r}");
            }

            if (SqPoll)
            {
                Thread.Yield();
            }
        }

        return sqe;
    }

    /// <summary>Hands prepared SQEs to the kernel; returns how many it took, or -errno.</summary>
    public int Submit() => Enter(0, null, 0);

    /// <summary>
    /// Submits what is prepared and waits until at least <paramref name="minComplete"/> completions are
    /// ready or <paramref name="timeoutMs"/> passes (-1: no limit). Returns SQEs consumed or -errno
    /// (-ETIME when the wait timed out, -EINTR when interrupted: both harmless).
    /// </summary>
    public int SubmitAndWait(uint minComplete, int timeoutMs)
    {
        if (timeoutMs < 0 || minComplete == 0)
        {
            return Enter(minComplete, null, 0);
        }

        var ts = new KernelTimespec { Seconds = timeoutMs / 1000, Nanoseconds = (timeoutMs % 1000) * 1_000_000L };
        var arg = new IoUringGetEventsArg { Ts = (ulong)&ts };
        return Enter(minComplete, &arg, (nuint)sizeof(IoUringGetEventsArg));
    }

    private int Enter(uint minComplete, IoUringGetEventsArg* arg, nuint argSize)
    {
        var toSubmit = _sqeTail - _submittedTail;

        // Publish the SQEs before the kernel (or the SQPOLL thread) looks at the tail: release.
        Volatile.Write(ref *_sqTail, _sqeTail);
        _submittedTail = _sqeTail;

        uint flags = 0;
        var overflow = CqOverflowPending;
        if (overflow)
        {
            CqOverflowFlushes++;
        }

        if (minComplete > 0 || overflow || (DeferTaskRun && (Volatile.Read(ref *_sqFlags) & IoUringConstants.SqTaskRun) != 0))
        {
            flags |= IoUringConstants.EnterGetEvents;
        }

        if (arg != null)
        {
            flags |= IoUringConstants.EnterExtArg;
        }

        if (SqPoll)
        {
            if ((Volatile.Read(ref *_sqFlags) & IoUringConstants.SqNeedWakeup) != 0)
            {
                flags |= IoUringConstants.EnterSqWakeup;
            }
            else if (flags == 0)
            {
                return (int)toSubmit;
            }

            toSubmit = 0;
        }

        return IoUringSyscalls.Enter(Fd, toSubmit, minComplete, flags, arg, argSize);
    }

    /// <summary>
    /// Takes the next completion. An empty ring with completions held back by overflow enters the
    /// kernel once to have them flushed in, so none is lost.
    /// </summary>
    public bool TryReadCqe(out IoUringCqe cqe)
    {
        var head = *_cqHead;
        var tail = Volatile.Read(ref *_cqTail);
        if (head == tail)
        {
            if (!CqOverflowPending)
            {
                cqe = default;
                return false;
            }

            CqOverflowFlushes++;
            if (IoUringSyscalls.Enter(Fd, 0, 0, IoUringConstants.EnterGetEvents, null, 0) < 0)
            {
                cqe = default;
                return false;
            }

            tail = Volatile.Read(ref *_cqTail);
            if (head == tail)
            {
                cqe = default;
                return false;
            }
        }

        cqe = _cqes[head & _cqMask];

        // The slot is free for the kernel once the head passes it: release, after the copy.
        Volatile.Write(ref *_cqHead, head + 1);
        return true;
    }

    /// <summary>Completions ready in the CQ ring now.</summary>
    public uint CqReady => Volatile.Read(ref *_cqTail) - *_cqHead;

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        IoUringSyscalls.Unmap((byte*)_sqes, _sqesSize);
        IoUringSyscalls.Unmap(_rings, _ringsSize);
        _ = IoUringSyscalls.close(Fd);
    }
}
