using System.Net;
using System.Net.Sockets;

namespace KcpKestrel.Smux.Tests.Interop;

/// <summary>Our <see cref="SmuxSession"/> against Debian's xtaci/smux 1.5.16 over TCP loopback, both directions, v1 and v2.</summary>
public sealed class GoSmuxInteropTests
{
    private const int Streams = 16;
    private const int Bytes = 1 << 20;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task OurClient_GoServer_SixteenStreamsEchoIntact(int version)
    {
        await using var server = await GoSmuxPeer.StartServerAsync(version);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server.EndPoint);
        await using var session = new SmuxSession(DuplexPipes.FromSocket(socket), isClient: true, new SmuxOptions { Version = version });

        var exchanges = Enumerable.Range(0, Streams).Select(async i => await SmuxTestStreams.ExchangeAsync(await session.OpenStreamAsync(), i, Bytes));
        var results = await Task.WhenAll(exchanges).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.All(results, Assert.True);
        Assert.Null(session.CloseReason);
        Assert.Equal(0, session.Counters.ProtocolErrors);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public async Task GoClient_OurServer_SixteenStreamsEchoIntact(int version)
    {
        using var listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        listener.Listen();
        var client = GoSmuxPeer.RunClientAsync((IPEndPoint)listener.LocalEndPoint!, version, Streams, Bytes);

        var socket = await listener.AcceptAsync().WaitAsync(TestWaits.Bound);
        socket.NoDelay = true;
        await using var session = new SmuxSession(DuplexPipes.FromSocket(socket), isClient: false, new SmuxOptions { Version = version });
        var serving = SmuxTestStreams.ServeEchoAsync(session);

        var result = await client;

        Assert.True(result.Ok, result.Error);
        Assert.Equal((long)Streams * Bytes, result.Bytes);
        Assert.Equal(Streams, session.Counters.StreamsAccepted);
        Assert.Equal(0, session.Counters.ProtocolErrors);
    }
}
