using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using KcpKestrel.IoUring;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>
/// One worker of the engine: a thread that owns one ring (made on it: single issuer, deferred task run),
/// with socket sharding one SO_REUSEPORT listening socket with a multishot ACCEPT armed (<see cref="IoUringTcpAccept"/>),
/// with the reactor none (connections arrive from the acceptor's ring as MSG_RING completions), one
/// provided-buffer group that every connection's multishot RECV fills, and its connections. Other threads
/// reach it only through <see cref="Post"/> (a queue and an eventfd read kept armed in the ring), so the
/// ring and the connections' I/O state need no locks.
/// </summary>
internal sealed unsafe class IoUringTcpWorker
{
    private const int KindShift = 56;
    private const ulong KindAccept = 1;
    internal const ulong KindRecv = 2;
    internal const ulong KindSend = 3;
    private const ulong KindWake = 4;
    private const ulong KindBackoff = 5;
    internal const ulong KindIgnore = 6;
    private const ulong KindHandoff = 7;
    internal const ushort BufferGroup = 0;

    private readonly IoUringTcpConnectionListener _listener;
    private readonly IoUringTcpAccept? _accept;
    private readonly IoUringTcpTuning _tuning;
    private readonly bool _noDelay;
    private readonly bool _inlineApplication;
    private int _threadId;
    private readonly ConcurrentQueue<(IoUringTcpConnection Connection, IoUringTcpWork Work)> _work = new();
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _unbound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Stack<int> _freeSlots = new();
    private IoUringTcpConnection?[] _slots = new IoUringTcpConnection?[64];
    private int _slotsUsed;
    private readonly IoUringTcpWaker _waker = new();
    private IoUringRing? _ring;
    private ProvidedBufferRing? _buffers;
    private volatile bool _unbindRequested;
    private volatile bool _stopRequested;
    private bool _unbinding;
    private bool _stopping;
    private int _live;
    private int _handoffsPending;
    private long _accepted;
    private long _noBuffers;
    private long _zeroCopySends;

    // listenSocket: with socket sharding this worker's listening socket; with the reactor, null.
    public IoUringTcpWorker(IoUringTcpConnectionListener listener, int index, Socket? listenSocket, IoUringTcpTuning tuning, bool noDelay, bool inlineApplication)
    {
        _inlineApplication = inlineApplication;
        _listener = listener;
        Index = index;
        if (listenSocket is null)
        {
            _unbound.TrySetResult();
        }
        else
        {
            _accept = new IoUringTcpAccept(listener, index, listenSocket, Tag(KindAccept, 0), Tag(KindBackoff, 0), Tag(KindIgnore, 0), () => _unbound.TrySetResult());
        }

        _tuning = tuning;
        _noDelay = noDelay;
    }

    public int Index { get; }

    /// <summary>How the ring is made (SQPOLL or not); by default from the tuning, without SQPOLL.</summary>
    public IoUringRingOptions? RingOptions { get; init; }

    /// <summary>The CPU the thread pins itself to; -1 leaves it to the scheduler.</summary>
    public int Cpu { get; init; } = -1;

    /// <summary>The worker thread's kernel id (for /proc/self/task/N), once <see cref="Started"/> completed.</summary>
    public int NativeThreadId { get; private set; }

    /// <summary>The ring's fd, for the acceptor's MSG_RING; valid once <see cref="Started"/> completed.</summary>
    public int RingFd => _ring!.Fd;

    /// <summary>Connections open, plus those handed over and not yet taken: the acceptor's load figure.</summary>
    public int Load => Volatile.Read(ref _live) + Volatile.Read(ref _handoffsPending);

    /// <summary>user_data of the MSG_RING completion that hands this worker an accepted fd (in its result).</summary>
    public static ulong HandoffTag => Tag(KindHandoff, 0);

    /// <summary>Completes once the ring is up, or faults with why it could not be made.</summary>
    public Task Started => _started.Task;

    /// <summary>Completes once the listening socket is closed.</summary>
    public Task Unbound => _unbound.Task;

    /// <summary>Completes once the thread has ended and released the ring, the buffers and every fd.</summary>
    public Task Stopped => _stopped.Task;

    public long Accepted => Volatile.Read(ref _accepted);

    /// <summary>Sends of at least this many bytes go out zero-copy; 0: none.</summary>
    public int ZeroCopySendThreshold => _listener.ZeroCopySendThreshold;

    /// <summary>Where the connections' pipes take their memory.</summary>
    public System.Buffers.MemoryPool<byte> MemoryPool => _listener.MemoryPool;

    /// <summary>Times a receive ran out of provided buffers (ENOBUFS) and was armed again.</summary>
    public long NoBuffers => Volatile.Read(ref _noBuffers);

    /// <summary>Zero-copy sends the kernel has finished with (notifications seen).</summary>
    public long ZeroCopySends => Volatile.Read(ref _zeroCopySends);

    public void Start()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = $"uring-tcp-{Index}" };
        thread.UnsafeStart();
    }

    /// <summary>Any thread: queue work for <paramref name="connection"/> and wake the worker.</summary>
    public void Post(IoUringTcpConnection connection, IoUringTcpWork work)
    {
        _work.Enqueue((connection, work));

        // From the worker itself (app code run inline): the queue is drained before the next wait, no wake-up needed.
        if (Environment.CurrentManagedThreadId != _threadId)
        {
            _waker.Wake();
        }
    }

    /// <summary>Acceptor thread, before its MSG_RING: the worker does not end while a handed-over fd may still arrive.</summary>
    public void HandoffStarting() => Interlocked.Increment(ref _handoffsPending);

    /// <summary>Acceptor thread: the MSG_RING failed (the acceptor closes the fd); nothing more will arrive for it.</summary>
    public void HandoffFailed()
    {
        Interlocked.Decrement(ref _handoffsPending);
        _waker.Wake();
    }

    public void RequestUnbind()
    {
        _unbindRequested = true;
        _waker.Wake();
    }

    public void RequestStop()
    {
        _unbindRequested = true;
        _stopRequested = true;
        _waker.Wake();
    }

    private void Run()
    {
        _threadId = Environment.CurrentManagedThreadId;
        NativeThreadId = IoUringTcpNative.gettid();
        if (Cpu >= 0 && IoUringTcpAffinity.PinCurrentThread(Cpu) is var pinError and not 0)
        {
            _listener.PinFailed(Index, Cpu, pinError);
        }

        try
        {
            _waker.Open();
            _ring = IoUringRing.Create(RingOptions ?? _tuning.RingOptions(sqPoll: false, sqPollIdleMilliseconds: 0));
            _buffers = _tuning.RegisterBuffers(_ring, BufferGroup);
            ArmWake();
            _accept?.Start(_ring);
            _ = _ring.Submit();
        }
        catch (Exception e)
        {
            Release();
            _unbound.TrySetResult();
            _stopped.TrySetResult();
            _started.TrySetException(e);
            return;
        }

        _started.TrySetResult();
        try
        {
            Loop();
        }
        catch (Exception e)
        {
            _listener.WorkerFailed(Index, e);
        }
        finally
        {
            Release();
            _unbound.TrySetResult();
            _stopped.TrySetResult();
        }
    }

    private void Loop()
    {
        var ring = _ring!;
        while (true)
        {
            Drain();
            if (_stopping && _live == 0 && (_accept?.Closed ?? true) && Volatile.Read(ref _handoffsPending) == 0)
            {
                // The last connections' CLOSEs are still queued: hand them over before the ring goes.
                _ = ring.Submit();
                return;
            }

            var r = ring.SubmitAndWait(1, -1);
            if (r < 0 && r != -IoUringConstants.EINTR && r != -IoUringConstants.EAGAIN && r != -IoUringConstants.EBUSY && r != -IoUringConstants.ETIME)
            {
                throw new InvalidOperationException($"io_uring_enter failed: errno {-r}");
            }

            while (ring.TryReadCqe(out var cqe))
            {
                Complete(in cqe);
            }
        }
    }

    private void Drain()
    {
        if (_unbindRequested && !_unbinding)
        {
            _unbinding = true;
            _accept?.Unbind();
        }

        if (_stopRequested && !_stopping)
        {
            _stopping = true;
            for (var i = 0; i < _slotsUsed; i++)
            {
                _slots[i]?.Abort(new ConnectionAbortedException("The io_uring TCP listener is stopping."));
            }
        }

        while (_work.TryDequeue(out var item))
        {
            var c = item.Connection;
            if (c.Finished)
            {
                continue;
            }

            switch (item.Work)
            {
                case IoUringTcpWork.OutputReadable:
                    IoUringTcpOutput.OnReadable(_ring!, c);
                    break;
                case IoUringTcpWork.InputFlushed:
                    IoUringTcpInput.OnFlushed(_ring!, c);
                    break;
                case IoUringTcpWork.Abort:
                    IoUringTcpOutput.Abort(c);
                    break;
            }

            TryFinish(c);
        }
    }

    private void Complete(in IoUringCqe cqe)
    {
        var kind = cqe.UserData >> KindShift;
        var slot = (int)(uint)cqe.UserData;
        switch (kind)
        {
            case KindAccept:
                if (_accept!.OnAccept(in cqe) is var fd and >= 0)
                {
                    Adopt(fd);
                }

                break;
            case KindHandoff:
                OnHandedOff(cqe.Res);
                break;
            case KindRecv:
                if (IoUringTcpInput.OnRecv(_ring!, _buffers!, _slots[slot]!, in cqe))
                {
                    Volatile.Write(ref _noBuffers, _noBuffers + 1);
                }

                TryFinish(_slots[slot]!);
                break;
            case KindSend:
                if (cqe.IsNotification)
                {
                    Volatile.Write(ref _zeroCopySends, _zeroCopySends + 1);
                }

                IoUringTcpOutput.OnSent(_ring!, _slots[slot]!, in cqe);
                TryFinish(_slots[slot]!);
                break;
            case KindWake:
                _waker.OnWoken();
                ArmWake();
                break;
            case KindBackoff:
                _accept!.OnBackoffElapsed();
                break;
        }
    }

    // ---- accept ----
    /// <summary>A connection the reactor's acceptor accepted (its slot under the limit taken) and passed here.</summary>
    private void OnHandedOff(int fd)
    {
        if (_stopping)
        {
            // Past the abort sweep: it would never be aborted, so it is not served.
            IoUringTcpNative.CloseAbortive(fd);
            _listener.Release();
        }
        else
        {
            Adopt(fd);
        }

        // After Adopt counted it live, so the acceptor's load figure never dips below the truth.
        Interlocked.Decrement(ref _handoffsPending);
    }

    private void Adopt(int fd)
    {
        if (_noDelay)
        {
            _ = IoUringTcpNative.SetInt(fd, TcpSocketOptionNames.IpProtoTcp, 1 /* TCP_NODELAY */, 1);
        }

        var slot = TakeSlot();
        var c = new IoUringTcpConnection(this, fd, slot, IoUringTcpNative.LocalEndPoint(fd), IoUringTcpNative.RemoteEndPoint(fd), _inlineApplication);
        _slots[slot] = c;
        _live++;
        Volatile.Write(ref _accepted, _accepted + 1);
        IoUringTcpInput.Arm(_ring!, c);
        IoUringTcpOutput.Read(_ring!, c);
        _listener.Enqueue(c);
    }

    // ---- lifetime ----
    private void TryFinish(IoUringTcpConnection c)
    {
        if (c.Finished || !c.Idle || c.ReadPending)
        {
            return;
        }

        // Through the ring: the close rides on the next io_uring_enter instead of a syscall of its own per connection.
        // A socket has no ->flush, so the kernel closes it inline at submit, and the number stays ours until then.
        var sqe = _ring!.GetSqe();
        sqe->PrepareClose(c.Fd, Tag(KindIgnore, 0));
        sqe->Flags |= IoUringConstants.SqeCqeSkipSuccess;
        _slots[c.Slot] = null;
        _freeSlots.Push(c.Slot);
        _live--;
        _listener.Release();
        c.OnFinished();
    }

    private int TakeSlot()
    {
        if (_freeSlots.TryPop(out var slot))
        {
            return slot;
        }

        if (_slotsUsed == _slots.Length)
        {
            Array.Resize(ref _slots, _slots.Length * 2);
        }

        return _slotsUsed++;
    }

    private void ArmWake() => _waker.Arm(_ring!, Tag(KindWake, 0));

    /// <summary>Cancels what is armed under (<paramref name="kind"/>, <paramref name="slot"/>); its own completion is skipped on success.</summary>
    internal static void Cancel(IoUringRing ring, ulong kind, int slot)
    {
        var sqe = ring.GetSqe();
        sqe->PrepareCancel(Tag(kind, slot), 0, Tag(KindIgnore, 0));
        sqe->Flags |= IoUringConstants.SqeCqeSkipSuccess;
    }

    internal static ulong Tag(ulong kind, int slot) => (kind << KindShift) | (uint)slot;

    /// <summary>Worker thread, at exit: closing the ring cancels whatever is left; then nothing can write into the buffers.</summary>
    private void Release()
    {
        for (var i = 0; i < _slotsUsed; i++)
        {
            if (_slots[i] is { } c)
            {
                _ = IoUringTcpNative.close(c.Fd);
                _listener.Release();
                c.OnFinished();
                _slots[i] = null;
            }
        }

        _listener.OnWorkerReleased(_ring, _buffers);
        _ring?.Dispose();
        _accept?.Release();
        _buffers?.Free();
        _waker.Close();
    }
}
