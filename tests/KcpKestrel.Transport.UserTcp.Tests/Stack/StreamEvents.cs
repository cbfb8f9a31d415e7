using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Stack;

/// <summary>
/// A connection's user in the stack tests: sends <see cref="ToSend"/> bytes of a position-derived pattern as fast as
/// the connection takes them (then, if asked, shuts down), and reads and checks everything that arrives.
/// </summary>
internal sealed class StreamEvents : ITcpConnectionEvents
{
    // One per thread: test classes run in parallel, and a connection per event object would cost 64 KiB each.
    [ThreadStatic]
    private static byte[]? _scratch;
    private readonly Func<uint> _clock;

    public StreamEvents(Func<uint> clock) => _clock = clock;

    public TcpConnection? Connection { get; set; }

    public long ToSend { get; set; }

    public bool ShutdownWhenSent { get; set; }

    /// <summary>Shut down as soon as the peer's FIN arrived (after sending everything).</summary>
    public bool ShutdownWhenReceiveComplete { get; set; }

    public long Sent { get; private set; }

    public long Received { get; private set; }

    public long Mismatches { get; private set; }

    public bool IsEstablished { get; private set; }

    public bool ReceiveComplete { get; private set; }

    public TcpCloseReason? ClosedReason { get; private set; }

    public bool IsShutdown { get; private set; }

    private static byte[] Scratch => _scratch ??= new byte[64 * 1024];

    public static byte Pattern(long position) => (byte)((position * 131) ^ (position >> 9));

    /// <summary>Starts a passively opened connection (the acceptor took it).</summary>
    public void Start(TcpConnection connection)
    {
        Connection = connection;
        IsEstablished = true;
        Pump();
    }

    public void OnEstablished(TcpConnection connection)
    {
        IsEstablished = true;
        Pump();
    }

    public void OnReceivable(TcpConnection connection)
    {
        var now = _clock();
        int read;
        while ((read = connection.Receive(Scratch, now)) > 0)
        {
            for (var i = 0; i < read; i++)
            {
                if (Scratch[i] != Pattern(Received + i))
                {
                    Mismatches++;
                }
            }

            Received += read;
        }

        if (connection.IsReceiveComplete && !ReceiveComplete)
        {
            ReceiveComplete = true;
            if (ShutdownWhenReceiveComplete)
            {
                Pump();
                ShutDown();
            }
        }
    }

    public void OnSendable(TcpConnection connection) => Pump();

    public void OnClosed(TcpConnection connection, TcpCloseReason reason) => ClosedReason = reason;

    private void Pump()
    {
        if (Connection is null || ClosedReason is not null)
        {
            return;
        }

        var now = _clock();
        while (Sent < ToSend)
        {
            var chunk = (int)Math.Min(ToSend - Sent, Scratch.Length);
            var span = Scratch.AsSpan(0, chunk);
            for (var i = 0; i < chunk; i++)
            {
                span[i] = Pattern(Sent + i);
            }

            var taken = Connection.Send(span, now);
            Sent += taken;
            if (taken < chunk)
            {
                return;
            }
        }

        if (ShutdownWhenSent)
        {
            ShutDown();
        }
    }

    private void ShutDown()
    {
        if (!IsShutdown && Connection is not null && ClosedReason is null)
        {
            IsShutdown = true;
            Connection.Shutdown(_clock());
        }
    }
}
