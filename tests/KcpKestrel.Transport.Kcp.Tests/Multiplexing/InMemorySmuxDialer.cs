using System.Buffers;
using KcpKestrel.Smux;
using KcpKestrel.Transport.Kcp.Multiplexing;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Tests.Multiplexing;

/// <summary>
/// Dials <see cref="SmuxPoolSession"/>s over in-memory pipes, each with a server-side smux session that echoes every
/// stream; counts dials, can hold them at a gate, and can hand out sessions that are already dead.
/// </summary>
internal sealed class InMemorySmuxDialer : IAsyncDisposable
{
    private readonly List<SmuxSession> _servers = [];
    private int _dials;

    /// <summary>When set, dials wait for it.</summary>
    public TaskCompletionSource? Gate { get; set; }

    /// <summary>Dials left that return a session closed before its first stream.</summary>
    public int DeadDials { get; set; }

    public int Dials => Volatile.Read(ref _dials);

    /// <summary>The server side of the <paramref name="index"/>th session dialed.</summary>
    public SmuxSession Server(int index)
    {
        lock (_servers)
        {
            return _servers[index];
        }
    }

    public async Task<SmuxPoolSession> DialAsync(CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _dials);
        if (Gate is { } gate)
        {
            await gate.Task.WaitAsync(cancellationToken);
        }

        var (a, b) = DuplexPipes.CreatePair();
        var options = new SmuxOptions { KeepAliveDisabled = true };
        var server = new SmuxSession(b, isClient: false, options);
        lock (_servers)
        {
            _servers.Add(server);
        }

        _ = EchoEveryStreamAsync(server);
        var client = new SmuxSession(a, isClient: true, options);
        if (DeadDials > 0)
        {
            DeadDials--;
            await client.DisposeAsync();
        }

        return new SmuxPoolSession(client, compression: null, new DefaultConnectionContext());
    }

    /// <summary>Writes <paramref name="text"/> on the stream and reads the same bytes back.</summary>
    public static async Task AssertEchoAsync(SmuxStream stream, string text)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(text);
        await stream.Output.WriteAsync(bytes);
        var received = new List<byte>();
        while (received.Count < bytes.Length)
        {
            var result = await stream.Input.ReadAsync().AsTask().WaitAsync(TestWaits.Bound);
            received.AddRange(result.Buffer.ToArray());
            stream.Input.AdvanceTo(result.Buffer.End);
            Assert.False(result.IsCompleted && received.Count < bytes.Length, "the echo ended early");
        }

        Assert.Equal(bytes, received);
    }

    public async ValueTask DisposeAsync()
    {
        SmuxSession[] servers;
        lock (_servers)
        {
            servers = [.. _servers];
        }

        foreach (var server in servers)
        {
            await server.DisposeAsync();
        }
    }

    private static async Task EchoEveryStreamAsync(SmuxSession session)
    {
        try
        {
            while (true)
            {
                var stream = await session.AcceptStreamAsync();
                _ = EchoAsync(stream);
            }
        }
        catch (IOException)
        {
            // The session closed.
        }
    }

    private static async Task EchoAsync(SmuxStream stream)
    {
        try
        {
            await stream.Input.CopyToAsync(stream.Output);
        }
        catch (IOException)
        {
        }

        await stream.Input.CompleteAsync();
        await stream.Output.CompleteAsync();
    }
}
