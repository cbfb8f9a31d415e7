using System.Collections.Concurrent;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using KcpKestrel.IoUring;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>
/// One worker of the socket-sharding engine: a thread that owns one ring (made on it: single issuer,
/// deferred task run), one SO_REUSEPORT listening socket with a multishot ACCEPT armed, one
/// provided-buffer group that every connection's multishot RECV fills, and the connections it
/// accepted. Other threads reach it only through <see cref="Post"/> (a queue and an eventfd read kept
/// armed in the ring), so the ring and the connections' I/O state need no locks.
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
    private const int FirstBackoffMs = 5;
    private const int MaxBackoffMs = 1000;
    internal const ushort BufferGroup = 0;

    private readonly IoUringTcpConnectionListener _listener;
    private readonly Socket _listenSocket;
    private readonly int _listenFd;
    private readonly ushort _bufferCount;
    private readonly int _bufferSize;
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
    private KernelTimespec* _backoffSpan;
    private IoUringRing? _ring;
    private ProvidedBufferRing? _buffers;
    private volatile bool _unbindRequested;
    private volatile bool _stopRequested;
    private bool _unbinding;
    private bool _stopping;
    private bool _acceptArmed;
    private bool _backoffArmed;
    private bool _listenClosed;
    private int _backoffMs;
    private int _live;
    private long _accepted;
    private long _noBuffers;
    private long _zeroCopySends;

    public IoUringTcpWorker(IoUringTcpConnectionListener listener, int index, Socket listenSocket, ushort bufferCount, int bufferSize, bool noDelay, bool inlineApplication)
    {
        _inlineApplication = inlineApplication;
        _listener = listener;
        Index = index;
        _listenSocket = listenSocket;
        _listenFd = (int)listenSocket.Handle;
        _bufferCount = bufferCount;
        _bufferSize = bufferSize;
        _noDelay = noDelay;
    }

    public int Index { get; }

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
        try
        {
            _waker.Open();
            _backoffSpan = (KernelTimespec*)NativeMemory.AllocZeroed((nuint)sizeof(KernelTimespec));
            _ring = IoUringRing.Create(new IoUringRingOptions { Entries = 256, CompletionEntries = 4096 });
            _buffers = ProvidedBufferRing.Register(_ring, BufferGroup, _bufferCount, _bufferSize);
            ArmWake();
            ArmAccept();
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
            if (_stopping && _live == 0 && _listenClosed)
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
            if (_acceptArmed)
            {
                Cancel(_ring!, KindAccept, 0);
            }
            else if (!_backoffArmed)
            {
                CloseListen();
            }
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
                OnAccept(in cqe);
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
                _backoffArmed = false;
                if (_unbinding)
                {
                    CloseListen();
                }
                else
                {
                    ArmAccept();
                }

                break;
        }
    }

    // ---- accept ----
    private void ArmAccept()
    {
        _ring!.GetSqe()->PrepareAcceptMultishot(_listenFd, IoUringTcpNative.SockCloexec, Tag(KindAccept, 0));
        _acceptArmed = true;
    }

    private void OnAccept(in IoUringCqe cqe)
    {
        if (cqe.Res >= 0)
        {
            _backoffMs = 0;
            OnAccepted(cqe.Res);
        }
        else if (!_unbinding && cqe.Res != -IoUringConstants.ECANCELED)
        {
            _listener.CountAcceptError();
            if (cqe.Res is -IoUringTcpNative.EMFILE or -IoUringTcpNative.ENFILE or -IoUringConstants.ENOBUFS or -IoUringConstants.ENOMEM)
            {
                // Out of descriptors or memory: re-accepting at once would spin; wait, doubling, until one succeeds.
                _backoffMs = _backoffMs == 0 ? FirstBackoffMs : Math.Min(_backoffMs * 2, MaxBackoffMs);
                _listener.AcceptBackoff(Index, -cqe.Res, _backoffMs);
                if (cqe.HasMore)
                {
                    Cancel(_ring!, KindAccept, 0);
                }
            }
        }

        if (cqe.HasMore)
        {
            return;
        }

        _acceptArmed = false;
        if (_unbinding)
        {
            CloseListen();
        }
        else if (_backoffMs > 0)
        {
            _backoffSpan->Seconds = 0;
            _backoffSpan->Nanoseconds = _backoffMs * 1_000_000L;
            _ring!.GetSqe()->PrepareTimeout(_backoffSpan, Tag(KindBackoff, 0));
            _backoffArmed = true;
        }
        else
        {
            ArmAccept();
        }
    }

    private void OnAccepted(int fd)
    {
        if (_unbinding)
        {
            _ = IoUringTcpNative.close(fd);
            return;
        }

        if (!_listener.TryTakeSlot())
        {
            IoUringTcpNative.CloseAbortive(fd);
            return;
        }

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

    private void CloseListen()
    {
        if (!_listenClosed)
        {
            _listenClosed = true;
            _listenSocket.Dispose();
            _unbound.TrySetResult();
        }
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

        if (!_listenClosed)
        {
            _listenClosed = true;
            _listenSocket.Dispose();
        }

        _ring?.Dispose();
        _buffers?.Free();
        _waker.Close();
        NativeMemory.Free(_backoffSpan);
        _backoffSpan = null;
    }
}
