using System.Net.Sockets;
using System.Runtime.InteropServices;
using KcpKestrel.IoUring;
using KcpKestrel.Native;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Datagrams;
using KcpKestrel.Transport.Kcp.Io.Native;

namespace KcpKestrel.Transport.Kcp.Io.Loops;

/// <summary>
/// The io_uring poller: one ring per loop, made on the loop's thread (single issuer, deferred task
/// run). Each channel keeps a multishot RECVMSG armed on a provided-buffer ring, so one
/// io_uring_enter both waits (with the timer wheel's timeout) and collects every datagram that
/// arrived, with no epoll_wait and recvmmsg pair. Wake-ups are an eventfd read kept armed in the ring.
/// The end-of-turn sends go out as SENDMSGs submitted by that same enter (<see cref="DeferSends"/>);
/// a batch that fills mid-turn leaves at once (<see cref="SendBatch"/>).
/// </summary>
internal sealed unsafe class IoUringLoopPoller : ILoopPoller
{
    private const int NameSpace = MessageBatch.AddressSize;
    private const int GroControlSpace = 64;

    // The SO_RXQ_OVFL cmsg (the socket's kernel drop count) of sockets without GRO.
    private const int PlainControlSpace = ControlMessages.IntSpace;
    private const ushort SmallGroup = 0;
    private const ushort LargeGroup = 1;
    private const ushort SmallBuffers = 512;
    private const ushort LargeBuffers = 64;
    private const int MaxCompletionsPerWait = 4096;

    private readonly int _slotSize;
    private readonly int _groRegisterFault;
    private readonly int _eventfd;
    private readonly ulong* _wakeValue;
    private readonly MsgHdr* _plainHeader;
    private readonly MsgHdr* _groHeader;
    private readonly IoUringRing _ring;
    private readonly ProvidedBufferRing _small;
    private ProvidedBufferRing? _large;
    private IoUringCqe[] _stash = new IoUringCqe[256];
    private int _stashHead;
    private int _stashCount;
    private readonly List<IoUringUdpChannel> _deferredChannels = [];
    private int _deferredSends;
    private uint _generation;
    private bool _largeRefused;
    private bool _disposed;

    private static readonly IoUringRingOptions DefaultRing = new() { Entries = 256, CompletionEntries = 4096 };

    /// <summary>
    /// Sets the ring and its small buffers up now, on the caller's thread, so a kernel that refuses
    /// them here (ENOMEM or EPERM registering the buffer ring, though the start-up probe passed)
    /// throws <see cref="IoUringUnavailableException"/> before any socket is handed over, and the loop
    /// can take the epoll path instead. The ring starts disabled: the loop's thread enables it on first
    /// use and so becomes its single issuer.
    /// </summary>
    /// <param name="slotSize">Largest datagram received.</param>
    /// <param name="registerFault">Tests only: registering the buffer ring fails with this errno (0: it does not).</param>
    /// <param name="groRegisterFault">Tests only: registering the GRO buffer ring fails with this errno (0: it does not).</param>
    /// <param name="ringOptions">Tests only: the ring's sizes (null: the defaults).</param>
    public IoUringLoopPoller(int slotSize, int registerFault = 0, int groRegisterFault = 0, IoUringRingOptions? ringOptions = null)
    {
        _slotSize = slotSize;
        _groRegisterFault = groRegisterFault;
        (_ring, _small) = SetUpRing(slotSize, registerFault, ringOptions ?? DefaultRing);

        // Blocking on purpose: io_uring answers a read of a non-blocking fd with EAGAIN instead of waiting.
        _eventfd = LinuxNative.eventfd(0, LinuxNative.EFD_CLOEXEC);
        if (_eventfd < 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            _ring.Dispose();
            _small.Free();
            throw new IoUringUnavailableException($"eventfd failed: errno {errno}");
        }

        _wakeValue = (ulong*)NativeMemory.AllocZeroed(sizeof(ulong));

        // The multishot RECVMSG reads only the name and control room from these: every buffer is laid
        // out as io_uring_recvmsg_out, then that much name, that much control, then the payload.
        _plainHeader = (MsgHdr*)NativeMemory.AllocZeroed((nuint)sizeof(MsgHdr));
        _plainHeader->NameLength = NameSpace;
        _plainHeader->ControlLength = PlainControlSpace;
        _groHeader = (MsgHdr*)NativeMemory.AllocZeroed((nuint)sizeof(MsgHdr));
        _groHeader->NameLength = NameSpace;
        _groHeader->ControlLength = GroControlSpace;
    }

    public UdpIoMode Mode => UdpIoMode.IoUring;

    /// <summary>The ring, for its counters.</summary>
    internal IoUringRing Ring => _ring;

    /// <summary>The ring's IORING_SETUP_* flags, for tests (single issuer and deferred task run where the kernel has them).</summary>
    internal uint RingSetupFlags => _ring.SetupFlags;

    /// <summary>Buffers of both groups not back from the kernel; 0 when every provided buffer is in the rings.</summary>
    internal int BuffersOut => _small.Out + (_large?.Out ?? 0);

    public IDatagramChannel CreateChannel(Socket socket, IDatagramReceiver receiver, KcpTransportCounters counters, int slotSize, bool gso, bool gro) =>
        new IoUringUdpChannel(this, socket, receiver, counters, slotSize, gso, gro);

    public void Add(IDatagramChannel channel)
    {
        var c = (IoUringUdpChannel)channel;
        EnsureRing();
        c.Generation = ++_generation & 0xFFFFFF;
        c.Armed = true;
        Arm(c);
    }

    public void Remove(IDatagramChannel channel)
    {
        var c = (IoUringUdpChannel)channel;
        if (!c.Armed)
        {
            return;
        }

        c.Armed = false;
        CompleteDeferred();

        // Submit now, while the fd is still this socket's: the cancel and any arm still queued take
        // their reference on the file before the channel closes it.
        var ring = EnsureRing();
        ring.GetSqe()->PrepareCancel(ReceiveTag(c), 0, IoUringTag.Make(IoUringTag.Cancel, 0, 0));
        _ = ring.Submit();
    }

    public void Signal()
    {
        ulong one = 1;
        _ = LinuxNative.write(_eventfd, &one, sizeof(ulong));
    }

    public uint WaitAndReceive(int timeoutMs, KcpIoLoop loop)
    {
        var ring = EnsureRing();
        if (_stashHead < _stashCount || ring.CqReady > 0)
        {
            if (ring.Unsubmitted > 0)
            {
                _ = ring.Submit();
            }
        }
        else
        {
            // The deferred sends complete during the submit (MSG_DONTWAIT): wait for one more than them.
            _ = ring.SubmitAndWait((uint)_deferredSends + 1, timeoutMs);
        }

        CompleteDeferred();

        var now = KcpIoLoop.NowMs;
        var received = false;
        for (var handled = 0; handled < MaxCompletionsPerWait; handled++)
        {
            IoUringCqe cqe;
            if (_stashHead < _stashCount)
            {
                cqe = _stash[_stashHead++];
            }
            else
            {
                _stashHead = _stashCount = 0;
                if (!ring.TryReadCqe(out cqe))
                {
                    break;
                }
            }

            if ((handled & 63) == 63)
            {
                // As the epoll path does per recvmmsg: a long run of completions must not age the clock it hands on.
                now = KcpIoLoop.NowMs;
            }

            received |= Dispatch(cqe, loop, now);
        }

        if (received)
        {
            loop.Counters.ReceiveCalls++;
        }

        return now;
    }

    /// <summary>
    /// Sends <paramref name="which"/> of <paramref name="headers"/> on <paramref name="fd"/>, one SENDMSG
    /// each (MSG_DONTWAIT: a full socket buffer answers -EAGAIN at once rather than parking the request),
    /// all in one enter, and puts each result (bytes or -errno) in <paramref name="results"/>. Other
    /// completions met meanwhile wait for the next <see cref="WaitAndReceive"/>.
    /// </summary>
    public void SendBatch(int fd, LinuxNative.MMsgHdr* headers, ReadOnlySpan<int> which, Span<int> results)
    {
        var ring = EnsureRing();
        for (var j = 0; j < which.Length; j++)
        {
            ring.GetSqe()->PrepareSendMsg(fd, &headers[which[j]].Header, LinuxNative.MSG_DONTWAIT, IoUringTag.Make(IoUringTag.Send, 0, (uint)j));
            results[j] = int.MinValue;
        }

        var pending = which.Length;
        _ = ring.SubmitAndWait((uint)pending, 1000);
        while (pending > 0)
        {
            if (!ring.TryReadCqe(out var cqe))
            {
                _ = ring.SubmitAndWait(1, 100);
                continue;
            }

            if (IoUringTag.Kind(cqe.UserData) == IoUringTag.Send)
            {
                results[IoUringTag.Index(cqe.UserData)] = cqe.Res;
                pending--;
                continue;
            }

            Stash(cqe);
        }
    }

    /// <summary>
    /// Queues SENDMSGs for <paramref name="which"/> of <paramref name="headers"/> to leave with the
    /// next enter; their results go back to <paramref name="channel"/> before any other completion is handled.
    /// </summary>
    public void DeferSends(IoUringUdpChannel channel, LinuxNative.MMsgHdr* headers, ReadOnlySpan<int> which)
    {
        var ring = EnsureRing();
        for (var j = 0; j < which.Length; j++)
        {
            ring.GetSqe()->PrepareSendMsg(channel.Fd, &headers[which[j]].Header, LinuxNative.MSG_DONTWAIT, IoUringTag.Make(IoUringTag.DeferredSend, (uint)j, (uint)channel.LoopIndex));
        }

        _deferredSends += which.Length;
        _deferredChannels.Add(channel);
    }

    public void FlushDeferred() => CompleteDeferred();

    // Collects every deferred send's completion (other completions wait in the stash) and lets the
    // channels tally them, so their send slots are free again before anything can write to them.
    private void CompleteDeferred()
    {
        if (_deferredSends == 0)
        {
            return;
        }

        var ring = _ring;
        if (ring.Unsubmitted > 0)
        {
            _ = ring.Submit();
        }

        while (_deferredSends > 0)
        {
            if (!ring.TryReadCqe(out var cqe))
            {
                _ = ring.SubmitAndWait(1, 100);
                continue;
            }

            if (IoUringTag.Kind(cqe.UserData) != IoUringTag.DeferredSend)
            {
                Stash(cqe);
                continue;
            }

            var index = IoUringTag.Index(cqe.UserData);
            foreach (var channel in _deferredChannels)
            {
                if (channel.LoopIndex == index)
                {
                    channel.OnDeferredResult((int)IoUringTag.Generation(cqe.UserData), cqe.Res);
                    break;
                }
            }

            _deferredSends--;
        }

        // A channel's retries may submit sends of their own: take the list's entries by index.
        for (var i = 0; i < _deferredChannels.Count; i++)
        {
            _deferredChannels[i].FinishDeferred();
        }

        _deferredChannels.Clear();
    }

    private void Stash(in IoUringCqe cqe)
    {
        if (_stashCount == _stash.Length)
        {
            Array.Resize(ref _stash, _stash.Length * 2);
        }

        _stash[_stashCount++] = cqe;
    }

    private bool Dispatch(in IoUringCqe cqe, KcpIoLoop loop, uint now)
    {
        var kind = IoUringTag.Kind(cqe.UserData);
        if (kind == IoUringTag.Wake)
        {
            loop.OnSignalled();
            ArmWake();
            return false;
        }

        if (kind is not (IoUringTag.ReceiveSmall or IoUringTag.ReceiveLarge))
        {
            return false;
        }

        var channel = loop.ChannelAt(IoUringTag.Index(cqe.UserData)) as IoUringUdpChannel;
        if (channel is not null && (channel.Generation != IoUringTag.Generation(cqe.UserData) || !channel.Armed || channel.IsDisposed))
        {
            channel = null;
        }

        var delivered = false;
        if (cqe.HasBuffer)
        {
            var buffers = kind == IoUringTag.ReceiveLarge ? _large! : _small;
            buffers.OnTaken();
            if (channel is not null && cqe.Res >= 0)
            {
                channel.OnReceive(buffers.Address(cqe.BufferId), buffers.BufferSize, NameSpace, channel.GroEnabled ? GroControlSpace : PlainControlSpace, now);
                delivered = true;
            }

            buffers.Recycle(cqe.BufferId);
        }

        // The multishot ended (buffers ran out: -ENOBUFS; an ICMP error on a connected socket; the
        // kernel's own limits): arm it again while the channel is still ours.
        if (!cqe.HasMore && channel is { Armed: true, IsDisposed: false })
        {
            if (cqe.Res == -IoUringConstants.ENOBUFS)
            {
                loop.Counters.ReceiveBuffersExhausted++;
            }

            Arm(channel);
        }

        return delivered;
    }

    private static ulong ReceiveTag(IoUringUdpChannel c) =>
        IoUringTag.Make(c.GroEnabled ? IoUringTag.ReceiveLarge : IoUringTag.ReceiveSmall, c.Generation, (uint)c.LoopIndex);

    private void Arm(IoUringUdpChannel c)
    {
        if (c.GroEnabled && LargeBuffersRing() is null)
        {
            // No room for coalesced receives: this socket takes its datagrams one by one instead.
            c.DisableGro();
        }

        var buffers = c.GroEnabled ? _large! : _small;
        _ring.GetSqe()->PrepareRecvMsgMultishot(c.Fd, c.GroEnabled ? _groHeader : _plainHeader, buffers.GroupId, ReceiveTag(c));
    }

    private void ArmWake() =>
        _ring.GetSqe()->PrepareRead(_eventfd, _wakeValue, sizeof(ulong), 0, IoUringTag.Make(IoUringTag.Wake, 0, 0));

    // Registered on first use, so loops without GRO sockets never pay its 4 MiB; null when the kernel
    // refuses it (memory, limits), asked once.
    private ProvidedBufferRing? LargeBuffersRing()
    {
        if (_large is null && !_largeRefused)
        {
            try
            {
                if (_groRegisterFault != 0)
                {
                    throw new IoUringUnavailableException(ProvidedBufferRing.DescribeRegisterError(_groRegisterFault));
                }

                _large = ProvidedBufferRing.Register(_ring, LargeGroup, LargeBuffers, sizeof(IoUringRecvMsgOut) + NameSpace + GroControlSpace + 65536);
            }
            catch (IoUringUnavailableException)
            {
                _largeRefused = true;
            }
        }

        return _large;
    }

    private static (IoUringRing Ring, ProvidedBufferRing Small) SetUpRing(int slotSize, int registerFault, IoUringRingOptions options)
    {
        var ring = IoUringRing.Create(options with { StartDisabled = true });
        try
        {
            if (registerFault != 0)
            {
                throw new IoUringUnavailableException(ProvidedBufferRing.DescribeRegisterError(registerFault));
            }

            return (ring, ProvidedBufferRing.Register(ring, SmallGroup, SmallBuffers, sizeof(IoUringRecvMsgOut) + NameSpace + PlainControlSpace + slotSize));
        }
        catch
        {
            ring.Dispose();
            throw;
        }
    }

    // Enabled on first use, on the loop's thread: with SINGLE_ISSUER only the enabling thread may submit.
    private IoUringRing EnsureRing()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_ring.Enabled)
        {
            _ring.Enable();
            ArmWake();
        }

        return _ring;
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;

        // Closing the ring cancels what is in flight; the buffers' memory is freed after it.
        _ring.Dispose();
        _small.Free();
        _large?.Free();
        _ = LinuxNative.close(_eventfd);
        NativeMemory.Free(_wakeValue);
        NativeMemory.Free(_plainHeader);
        NativeMemory.Free(_groHeader);
    }
}
