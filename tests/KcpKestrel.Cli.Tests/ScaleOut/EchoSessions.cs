using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Cli.Tests.ScaleOut;

/// <summary>
/// In-process KCP clients of <c>serve --app echo</c> through the balancer, each session its own UDP socket (its own
/// source port, so nginx hashes each one on its own): open some, check each still echoes.
/// </summary>
internal sealed class EchoSessions : IAsyncDisposable
{
    private const int Size = 64;

    private readonly KcpConnectionFactory _factory;
    private readonly List<ConnectionContext> _sessions = [];
    private uint _sequence;

    public EchoSessions(KcpOptions options) => _factory = new KcpConnectionFactory(new KcpClientOptions { Kcp = options, IoLoopCount = 1, ConnectRetries = 5 });

    public IReadOnlyList<ConnectionContext> Sessions => _sessions;

    /// <summary>Dials <paramref name="count"/> sessions to <paramref name="target"/>; each must echo once.</summary>
    public async Task OpenAsync(IPEndPoint target, int count)
    {
        for (var i = 0; i < count; i++)
        {
            _sessions.Add(await _factory.ConnectAsync(new KcpEndPoint(target)));
        }

        var first = await EchoAllAsync(TestWaits.Bound);
        Assert.All(first, Assert.True);
    }

    /// <summary>
    /// One round trip on every session at once: true where the reply came back byte-exact within <paramref name="timeout"/>,
    /// false where the session ended or stayed silent (its datagrams reach an instance that does not know it).
    /// </summary>
    public Task<bool[]> EchoAllAsync(TimeSpan timeout) => Task.WhenAll(_sessions.Select(s => EchoAsync(s, Interlocked.Increment(ref _sequence), timeout)));

    public async ValueTask DisposeAsync()
    {
        foreach (var session in _sessions)
        {
            await session.DisposeAsync();
        }

        await _factory.DisposeAsync();
    }

    private static async Task<bool> EchoAsync(ConnectionContext session, uint sequence, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        var message = new byte[Size];
        BinaryPrimitives.WriteUInt32LittleEndian(message, sequence);
        message.AsSpan(4).Fill((byte)sequence);
        try
        {
            await session.Transport.Output.WriteAsync(message, cts.Token);
            while (true)
            {
                var result = await session.Transport.Input.ReadAsync(cts.Token);
                if (result.Buffer.Length >= Size)
                {
                    var reply = result.Buffer.Slice(0, Size).ToArray();
                    session.Transport.Input.AdvanceTo(result.Buffer.GetPosition(Size));
                    return reply.AsSpan().SequenceEqual(message);
                }

                if (result.IsCompleted)
                {
                    return false;
                }

                session.Transport.Input.AdvanceTo(result.Buffer.Start, result.Buffer.End);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ConnectionResetException or ObjectDisposedException or InvalidOperationException)
        {
            return false;
        }
    }
}
