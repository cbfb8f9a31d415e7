using System.Net;
using System.Security.Cryptography;
using KcpKestrel.Tests.Shared.UserTcp;
using KcpKestrel.Transport.UserTcp.Tcp;

namespace KcpKestrel.Transport.UserTcp.Tests.Connection;

/// <summary>
/// A client connection (end A, active open) and a server connection (end B, opened passively by its fake owner's
/// one-connection listener) over a seeded <see cref="SegmentLink"/>, with helpers to connect and move bytes.
/// </summary>
internal sealed class ConnectionPair
{
    public static readonly TcpFlowKey ClientFlow = TcpFlowKey.From(
        new IPEndPoint(IPAddress.Parse("10.77.0.2"), 40000), new IPEndPoint(IPAddress.Parse("10.77.0.1"), 80));

    public ConnectionPair(int seed, TcpConnectionOptions? client = null, TcpConnectionOptions? server = null)
    {
        Link = new SegmentLink(seed);
        ClientOwner = new FakeConnectionOwner(Link.A);
        ServerOwner = new FakeConnectionOwner(Link.B) { ListenOptions = server ?? new TcpConnectionOptions(), PassiveEvents = ServerEvents };
        Client = new TcpConnection(ClientOwner, ClientFlow, client ?? new TcpConnectionOptions()) { Events = ClientEvents };
        ClientOwner.Connection = Client;
    }

    public SegmentLink Link { get; }

    public FakeConnectionOwner ClientOwner { get; }

    public FakeConnectionOwner ServerOwner { get; }

    public TcpConnection Client { get; }

    /// <summary>The server's connection, once the SYN arrived (it stays readable after release).</summary>
    public TcpConnection Server => ServerOwner.Connection ?? ServerOwner.Released ?? throw new InvalidOperationException("no server connection yet");

    public RecordingConnectionEvents ClientEvents { get; } = new();

    public RecordingConnectionEvents ServerEvents { get; } = new();

    public uint Now => Link.Now;

    /// <summary>Opens and runs until both ends are ESTABLISHED.</summary>
    public void Connect(uint iss = 0x1000_0000)
    {
        Client.OpenActive(iss, Now);
        Assert.True(
            Link.RunUntil(() => Client.State == TcpState.Established && ServerOwner.Connection?.State == TcpState.Established, 60_000),
            $"handshake: client {Client.State}, server {ServerOwner.Connection?.State}");
    }

    /// <summary>
    /// Moves <paramref name="bytes"/> seeded-random bytes from <paramref name="from"/> to <paramref name="to"/>,
    /// reading as they arrive, and returns whether the receiver's SHA-256 matched the sender's.
    /// </summary>
    public bool Transfer(TcpConnection from, TcpConnection to, int bytes, int seed, int maxMs = 600_000)
    {
        var data = new byte[bytes];
        new Random(seed).NextBytes(data);
        var expected = SHA256.HashData(data);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var sent = 0;
        var received = 0;
        var buffer = new byte[64 * 1024];
        var done = Link.RunUntil(
            () =>
            {
                while (sent < bytes)
                {
                    var n = from.Send(data.AsSpan(sent, Math.Min(bytes - sent, 64 * 1024)), Now);
                    if (n == 0)
                    {
                        break;
                    }

                    sent += n;
                }

                int r;
                while ((r = to.Receive(buffer, Now)) > 0)
                {
                    hash.AppendData(buffer, 0, r);
                    received += r;
                }

                return received >= bytes;
            },
            maxMs);
        Assert.True(done, $"transfer stalled: sent {sent}, received {received} of {bytes}; from {from.State} {from.GetStatistics()}");
        return hash.GetHashAndReset().AsSpan().SequenceEqual(expected);
    }
}
