using System.Net.Sockets;
using System.Runtime.InteropServices;
using KcpKestrel.IoUring;

namespace KcpKestrel.Transport.Tcp.IoUring;

/// <summary>
/// The accept side of a ring's owner (a sharding worker or the reactor's acceptor): one listening socket with a
/// multishot ACCEPT kept armed, back-off on EMFILE/ENFILE/ENOBUFS/ENOMEM (a timeout in the ring, doubling up to a
/// second, until an accept succeeds), and the unbind sequence (cancel the accept, wait out a back-off, close the
/// socket). Used only on the owner's thread; the owner routes the completions tagged with its kinds here.
/// </summary>
internal sealed unsafe class IoUringTcpAccept
{
    private const int FirstBackoffMs = 5;
    private const int MaxBackoffMs = 1000;

    private readonly IoUringTcpConnectionListener _listener;
    private readonly int _owner;
    private readonly Socket _socket;
    private readonly int _fd;
    private readonly ulong _acceptTag;
    private readonly ulong _backoffTag;
    private readonly ulong _ignoreTag;
    private readonly Action _onClosed;
    private IoUringRing? _ring;
    private KernelTimespec* _backoffSpan;
    private bool _armed;
    private bool _backoffArmed;
    private int _backoffMs;

    /// <param name="listener">Counts errors, logs back-off.</param>
    /// <param name="owner">The worker index in logs.</param>
    /// <param name="socket">The listening socket; closed by this.</param>
    /// <param name="acceptTag">user_data of the ACCEPT.</param>
    /// <param name="backoffTag">user_data of the back-off TIMEOUT.</param>
    /// <param name="ignoreTag">user_data of the owner's kind that completions are dropped for (the cancel).</param>
    /// <param name="onClosed">Called once the socket is closed.</param>
    public IoUringTcpAccept(IoUringTcpConnectionListener listener, int owner, Socket socket, ulong acceptTag, ulong backoffTag, ulong ignoreTag, Action onClosed)
    {
        _listener = listener;
        _owner = owner;
        _socket = socket;
        _fd = (int)socket.Handle;
        _acceptTag = acceptTag;
        _backoffTag = backoffTag;
        _ignoreTag = ignoreTag;
        _onClosed = onClosed;
    }

    /// <summary>Unbind was asked for: accepted connections are to be closed, not served.</summary>
    public bool Unbinding { get; private set; }

    public bool Closed { get; private set; }

    /// <summary>Owner thread, once its ring is up: arms the first ACCEPT.</summary>
    public void Start(IoUringRing ring)
    {
        _ring = ring;
        _backoffSpan = (KernelTimespec*)NativeMemory.AllocZeroed((nuint)sizeof(KernelTimespec));
        Arm();
    }

    /// <summary>Stops accepting: cancels the ACCEPT (its last completion closes the socket) or closes it now.</summary>
    public void Unbind()
    {
        if (Unbinding)
        {
            return;
        }

        Unbinding = true;
        if (_armed)
        {
            var sqe = _ring!.GetSqe();
            sqe->PrepareCancel(_acceptTag, 0, _ignoreTag);
            sqe->Flags |= IoUringConstants.SqeCqeSkipSuccess;
        }
        else if (!_backoffArmed)
        {
            Close();
        }
    }

    /// <summary>
    /// An ACCEPT completion: the accepted fd for the owner to serve (its slot under the connection limit taken), or -1;
    /// re-arms or backs off as needed.
    /// </summary>
    public int OnAccept(in IoUringCqe cqe)
    {
        var fd = -1;
        if (cqe.Res >= 0)
        {
            _backoffMs = 0;
            fd = Admit(cqe.Res);
        }
        else if (!Unbinding && cqe.Res != -IoUringConstants.ECANCELED)
        {
            _listener.CountAcceptError();
            if (cqe.Res is -IoUringTcpNative.EMFILE or -IoUringTcpNative.ENFILE or -IoUringConstants.ENOBUFS or -IoUringConstants.ENOMEM)
            {
                // Out of descriptors or memory: re-accepting at once would spin; wait, doubling, until one succeeds.
                _backoffMs = _backoffMs == 0 ? FirstBackoffMs : Math.Min(_backoffMs * 2, MaxBackoffMs);
                _listener.AcceptBackoff(_owner, -cqe.Res, _backoffMs);
                if (cqe.HasMore)
                {
                    var sqe = _ring!.GetSqe();
                    sqe->PrepareCancel(_acceptTag, 0, _ignoreTag);
                    sqe->Flags |= IoUringConstants.SqeCqeSkipSuccess;
                }
            }
        }

        if (cqe.HasMore)
        {
            return fd;
        }

        _armed = false;
        if (Unbinding)
        {
            Close();
        }
        else if (_backoffMs > 0)
        {
            _backoffSpan->Seconds = 0;
            _backoffSpan->Nanoseconds = _backoffMs * 1_000_000L;
            _ring!.GetSqe()->PrepareTimeout(_backoffSpan, _backoffTag);
            _backoffArmed = true;
        }
        else
        {
            Arm();
        }

        return fd;
    }

    /// <summary>The back-off TIMEOUT completed: accept again, or close when unbinding.</summary>
    public void OnBackoffElapsed()
    {
        _backoffArmed = false;
        if (Unbinding)
        {
            Close();
        }
        else
        {
            Arm();
        }
    }

    /// <summary>Owner thread, at exit, after the ring is closed (nothing can still use the timespec).</summary>
    public void Release()
    {
        Close();
        NativeMemory.Free(_backoffSpan);
        _backoffSpan = null;
    }

    /// <summary>Closes a connection accepted while unbinding, or past the limit (with a reset); else returns it.</summary>
    private int Admit(int fd)
    {
        if (Unbinding)
        {
            _ = IoUringTcpNative.close(fd);
            return -1;
        }

        if (!_listener.TryTakeSlot())
        {
            IoUringTcpNative.CloseAbortive(fd);
            return -1;
        }

        return fd;
    }

    private void Arm()
    {
        _ring!.GetSqe()->PrepareAcceptMultishot(_fd, IoUringTcpNative.SockCloexec, _acceptTag);
        _armed = true;
    }

    private void Close()
    {
        if (!Closed)
        {
            Closed = true;
            _socket.Dispose();
            _onClosed();
        }
    }
}
