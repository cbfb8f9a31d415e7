using System.Net.Sockets;
using KcpKestrel.IoUring;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>
/// The reactor architecture's acceptor: a thread with a small ring, a multishot ACCEPT on the one listening socket
/// (with the sharding workers' back-off and drain, <see cref="IoUringTcpAccept"/>), and the connection limit taken at
/// accept. Each accepted fd goes to a worker ring as an IORING_OP_MSG_RING completion whose result is the fd: no
/// queue, no wake-up write, and the worker picks it up in the same io_uring_enter as its own completions.
/// </summary>
/// <remarks>
/// The worker chosen is the one with the fewest live connections (plus hand-offs in flight), ties going round-robin
/// from the last choice: as cheap as round-robin for even loads, and it does not keep piling new connections on a
/// worker whose long-lived ones outlast its neighbours' (a mix of keep-alive and churn clients).
/// Nothing else needs to reach the acceptor: unbinding shuts the listening socket down for reading, which ends the
/// armed ACCEPT with an error completion, and it exits once every MSG_RING has completed, so the workers may stop
/// after it without a connection in flight between two rings.
/// </remarks>
internal sealed unsafe class IoUringTcpAcceptor
{
    private const int KindShift = 56;
    private const ulong KindAccept = 1;
    private const ulong KindBackoff = 2;
    private const ulong KindIgnore = 3;
    private const ulong KindMessage = 4;

    private readonly IoUringTcpConnectionListener _listener;
    private readonly Socket _socket;
    private readonly IoUringTcpWorker[] _workers;
    private readonly IoUringTcpAccept _accept;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _unbound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly IoUringRingOptions _ringOptions;
    private IoUringRing? _ring;
    private volatile bool _unbindRequested;
    private int _next;
    private int _inFlight;

    public IoUringTcpAcceptor(IoUringTcpConnectionListener listener, Socket socket, IoUringTcpWorker[] workers, IoUringRingOptions ringOptions)
    {
        _listener = listener;
        _socket = socket;
        _workers = workers;
        _ringOptions = ringOptions;
        _accept = new IoUringTcpAccept(listener, -1, socket, Tag(KindAccept, 0), Tag(KindBackoff, 0), Tag(KindIgnore, 0), () => _unbound.TrySetResult());
    }

    /// <summary>Completes once the ring is up and the ACCEPT armed, or faults with why not.</summary>
    public Task Started => _started.Task;

    /// <summary>Completes once the listening socket is closed.</summary>
    public Task Unbound => _unbound.Task;

    /// <summary>Completes once the thread has ended: every hand-off delivered or its fd closed.</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>Worker to hand the next connection to: fewest live, ties round-robin from after the last pick. Pure.</summary>
    internal static int Pick(ReadOnlySpan<int> loads, int after)
    {
        var best = -1;
        var bestLoad = int.MaxValue;
        for (var k = 1; k <= loads.Length; k++)
        {
            var i = (after + k) % loads.Length;
            if (loads[i] < bestLoad)
            {
                best = i;
                bestLoad = loads[i];
            }
        }

        return best;
    }

    public void Start()
    {
        var thread = new Thread(Run) { IsBackground = true, Name = "uring-tcp-accept" };
        thread.UnsafeStart();
    }

    /// <summary>Any thread: stop accepting. The shutdown wakes the ring (the ACCEPT fails); the acceptor closes the socket.</summary>
    public void RequestUnbind()
    {
        _unbindRequested = true;
        try
        {
            // Through Socket, not the raw fd: its handle is ref-counted, so a close racing this cannot hand the number to another file.
            _socket.Shutdown(SocketShutdown.Receive);
        }
        catch (Exception e) when (e is ObjectDisposedException or SocketException)
        {
            // Closed already, or not listening any more: the acceptor is past the ACCEPT.
        }
    }

    private static ulong Tag(ulong kind, int value) => (kind << KindShift) | (uint)value;

    private void Run()
    {
        try
        {
            _ring = IoUringRing.Create(_ringOptions);
            _accept.Start(_ring);
            _ = _ring.Submit();
        }
        catch (Exception e)
        {
            _ring?.Dispose();
            _accept.Release();
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
            _listener.WorkerFailed(-1, e);
        }
        finally
        {
            _ring.Dispose();
            _accept.Release();
            _stopped.TrySetResult();
        }
    }

    private void Loop()
    {
        var ring = _ring!;
        while (true)
        {
            if (_unbindRequested)
            {
                _accept.Unbind();
            }

            if (_accept.Closed && _inFlight == 0)
            {
                return;
            }

            var r = ring.SubmitAndWait(1, -1);
            if (r < 0 && r != -IoUringConstants.EINTR && r != -IoUringConstants.EAGAIN && r != -IoUringConstants.EBUSY && r != -IoUringConstants.ETIME)
            {
                throw new InvalidOperationException($"io_uring_enter failed: errno {-r}");
            }

            while (ring.TryReadCqe(out var cqe))
            {
                switch (cqe.UserData >> KindShift)
                {
                    case KindAccept:
                        if (_accept.OnAccept(in cqe) is var fd and >= 0)
                        {
                            HandOff(fd);
                        }

                        break;
                    case KindBackoff:
                        _accept.OnBackoffElapsed();
                        break;
                    case KindMessage:
                        OnMessageSent(in cqe);
                        break;
                }
            }
        }
    }

    private void HandOff(int fd)
    {
        Span<int> loads = stackalloc int[_workers.Length];
        for (var i = 0; i < loads.Length; i++)
        {
            loads[i] = _workers[i].Load;
        }

        var worker = Pick(loads, _next);
        _next = worker;
        _workers[worker].HandoffStarting();
        _inFlight++;

        // The source completion carries the fd and the worker, so a failed message can close the one and tell the other.
        _ring!.GetSqe()->PrepareMsgRing(_workers[worker].RingFd, fd, IoUringTcpWorker.HandoffTag, Tag(KindMessage, fd) | ((ulong)worker << 32));
    }

    private void OnMessageSent(in IoUringCqe cqe)
    {
        _inFlight--;
        if (cqe.Res >= 0)
        {
            return;
        }

        // The target never got it (its ring overflowed or is gone): the fd and its slot are still ours.
        var fd = (int)(uint)cqe.UserData;
        var worker = (int)((cqe.UserData >> 32) & 0xFF_FFFF);
        IoUringTcpNative.CloseAbortive(fd);
        _listener.Release();
        _listener.CountAcceptError();
        _workers[worker].HandoffFailed();
    }
}
