using System.Net;
using System.Net.Sockets;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Io.Datagrams;

namespace KcpKestrel.Transport.Kcp.Io.Loops;

/// <summary>
/// The portable poller: Socket.Select over the loop's sockets and a loopback UDP "wake" socket (the
/// self-pipe trick: other threads send it one byte to end a wait), each readable socket drained
/// with the loop's one receive buffer.
/// </summary>
internal sealed class SocketLoopPoller : ILoopPoller
{
    // A signal lost anyway (it should not be: one byte in flight on loopback) costs at most this.
    private const int MaxWaitMs = 500;

    private readonly Socket _wakeReceiver;
    private readonly Socket _wakeSender;
    private readonly byte[] _wakeByte = [1];
    private readonly byte[] _wakeBuffer = new byte[16];
    private readonly byte[] _receiveBuffer;
    private readonly List<SocketUdpChannel> _channels = [];
    private readonly Dictionary<Socket, SocketUdpChannel> _bySocket = [];
    private readonly List<Socket> _ready = [];
    private bool _disposed;

    public SocketLoopPoller(int slotSize)
    {
        _receiveBuffer = new byte[slotSize + 1];
        (_wakeReceiver, _wakeSender) = CreateWakePair();
    }

    public UdpIoMode Mode => UdpIoMode.Socket;

    // The portable path has no segmentation offload: gso and gro are ignored.
    public IDatagramChannel CreateChannel(Socket socket, IDatagramReceiver receiver, KcpTransportCounters counters, int slotSize, bool gso, bool gro) =>
        new SocketUdpChannel(socket, receiver, counters, slotSize);

    public void Add(IDatagramChannel channel)
    {
        var socketChannel = (SocketUdpChannel)channel;
        _channels.Add(socketChannel);
        _bySocket[channel.Socket] = socketChannel;
    }

    public void Remove(IDatagramChannel channel)
    {
        _channels.Remove((SocketUdpChannel)channel);
        _bySocket.Remove(channel.Socket);
    }

    public void Signal()
    {
        try
        {
            _wakeSender.Send(_wakeByte, SocketFlags.None, out _);
        }
        catch (ObjectDisposedException)
        {
            // Posted to a loop already gone: nothing will run it, as on the native path.
        }
    }

    private void DrainWake()
    {
        var error = SocketError.Success;
        while (error == SocketError.Success)
        {
            _wakeReceiver.Receive(_wakeBuffer, SocketFlags.None, out error);
        }
    }

    public void FlushDeferred()
    {
        // Sends leave when flushed: nothing waits for the next wait.
    }

    public uint WaitAndReceive(int timeoutMs, KcpIoLoop loop)
    {
        _ready.Clear();
        _ready.Add(_wakeReceiver);
        foreach (var channel in _channels)
        {
            _ready.Add(channel.Socket);
        }

        var waitMs = timeoutMs is < 0 or > MaxWaitMs ? MaxWaitMs : timeoutMs;
        try
        {
            Socket.Select(_ready, null, null, waitMs * 1000);
        }
        catch (SocketException)
        {
            // Interrupted, or out of resources for the moment: a turn with nothing read, as an
            // epoll_wait that returns -1 is on the native path.
            _ready.Clear();
        }
        var now = KcpIoLoop.NowMs;
        foreach (var socket in _ready)
        {
            if (ReferenceEquals(socket, _wakeReceiver))
            {
                DrainWake();

                loop.OnSignalled();
                continue;
            }

            // A receiver earlier in this pass may have removed (and disposed) this channel.
            if (_bySocket.TryGetValue(socket, out var channel) && !channel.IsDisposed)
            {
                channel.DrainReceive(_receiveBuffer, now);
            }
        }

        return now;
    }

    private static (Socket Receiver, Socket Sender) CreateWakePair()
    {
        try
        {
            return CreateWakePair(IPAddress.Loopback);
        }
        catch (SocketException)
        {
            return CreateWakePair(IPAddress.IPv6Loopback);
        }
    }

    private static (Socket Receiver, Socket Sender) CreateWakePair(IPAddress loopback)
    {
        var receiver = new Socket(loopback.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        Socket? sender = null;
        try
        {
            receiver.Bind(new IPEndPoint(loopback, 0));
            sender = new Socket(loopback.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
            sender.Connect(receiver.LocalEndPoint!);

            // Connected both ways: the kernel drops whatever another local process sends the port.
            receiver.Connect(sender.LocalEndPoint!);
            receiver.Blocking = false;
            sender.Blocking = false;
            return (receiver, sender);
        }
        catch
        {
            receiver.Dispose();
            sender?.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _wakeReceiver.Dispose();
        _wakeSender.Dispose();
    }
}
