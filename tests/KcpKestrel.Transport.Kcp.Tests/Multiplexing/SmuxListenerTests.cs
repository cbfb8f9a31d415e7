using System.Buffers;
using KcpKestrel.Smux;
using KcpKestrel.Transport.Kcp.Diagnostics;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.DependencyInjection;

namespace KcpKestrel.Transport.Kcp.Tests.Multiplexing;

/// <summary>Kestrel with <c>kcp.Multiplexing = Smux</c>: every smux stream of every KCP session is a connection.</summary>
public sealed class SmuxListenerTests
{
    public static TheoryData<int, bool> VersionsAndCompression => new() { { 1, false }, { 1, true }, { 2, false }, { 2, true } };

    [Theory]
    [MemberData(nameof(VersionsAndCompression))]
    public async Task Echo_HundredConcurrentStreamsOnOneSession_EveryByteIntact(int version, bool compress)
    {
        const int Streams = 100;
        const int Bytes = 128 << 10;
        await using var host = await KcpTestHost.StartAsync<EchoConnectionHandler>(k =>
        {
            Smux(k, version, compress);
            // Room in the session buffer for every stream's window: an echo stalls otherwise (see SmuxKcpInteropTests).
            k.StreamBuffer = 65536;
            k.SmuxBuffer = 8 << 20;
        });
        await using var factory = KcpTestHost.Client().CreateFactory();
        await using var client = await SmuxTestClient.ConnectAsync(factory, host.KcpEndPoint, version, compress);

        var runs = Enumerable.Range(0, Streams).Select(i => Task.Run(async () =>
        {
            var stream = await client.OpenAsync();
            var result = await EchoAsync(stream, Bytes, i);
            await stream.Output.CompleteAsync();
            return result;
        }));
        var results = await Task.WhenAll(runs).WaitAsync(TimeSpan.FromMinutes(3));

        Assert.All(results, r => Assert.Equal(r.Sent, r.Received));
        var smux = Stats(host);
        Assert.Equal(Streams, smux.StreamsAccepted);
        Assert.Equal(1, smux.SessionsOpened);
        Assert.Null(client.Session.CloseReason);
    }

    [Theory]
    [MemberData(nameof(VersionsAndCompression))]
    public async Task CloseOneStream_OthersAndSessionKeepWorking(int version, bool compress)
    {
        await using var host = await KcpTestHost.StartAsync<EchoConnectionHandler>(k => Smux(k, version, compress));
        await using var factory = KcpTestHost.Client().CreateFactory();
        await using var client = await SmuxTestClient.ConnectAsync(factory, host.KcpEndPoint, version, compress);
        var first = await client.OpenAsync();
        var second = await client.OpenAsync();
        await EchoAsync(first, 4096, 1);
        await EchoAsync(second, 4096, 2);

        // FIN from us, then the server's FIN after its echo handler returns.
        await first.Output.CompleteAsync();
        Assert.Empty(await TestWaits.ReadToEndAsync(first.Input).WaitAsync(TestWaits.Bound));

        var (sent, received) = await EchoAsync(second, 64 << 10, 3);
        Assert.Equal(sent, received);
        var third = await client.OpenAsync();
        (sent, received) = await EchoAsync(third, 64 << 10, 4);
        Assert.Equal(sent, received);
        Assert.Null(client.Session.CloseReason);
        Assert.Equal(1, Stats(host).SessionsActive);
    }

    [Fact]
    public async Task Streams_OfOneSession_SameConvDistinctStreamIds()
    {
        await using var host = await KcpTestHost.StartAsync<StreamProbeHandler>(k => Smux(k, 2, compress: true));
        await using var factory = KcpTestHost.Client().CreateFactory();
        await using var client = await SmuxTestClient.ConnectAsync(factory, host.KcpEndPoint, 2, compress: true);
        var probe = host.Services.GetRequiredService<StreamProbeHandler>();
        var streams = new List<SmuxStream>();
        for (var i = 0; i < 5; i++)
        {
            var stream = await client.OpenAsync();
            await EchoAsync(stream, 100, i);
            streams.Add(stream);
        }

        var seen = probe.Seen.ToArray();
        Assert.Equal(5, seen.Length);
        Assert.Single(seen.Select(s => s.Conv).Distinct());
        Assert.Equal(client.Connection.Features.Get<IKcpSessionFeature>()!.Conv, seen[0].Conv);
        Assert.Equal(streams.Select(s => s.Id).Order(), seen.Select(s => s.StreamId).Order());
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    public async Task SessionEnds_ItsStreamsFailAndSignalClosed(int version, bool compress)
    {
        await using var host = await KcpTestHost.StartAsync<StreamProbeHandler>(k => Smux(k, version, compress));
        await using var factory = KcpTestHost.Client().CreateFactory();
        var client = await SmuxTestClient.ConnectAsync(factory, host.KcpEndPoint, version, compress);
        var probe = host.Services.GetRequiredService<StreamProbeHandler>();
        for (var i = 0; i < 3; i++)
        {
            await EchoAsync(await client.OpenAsync(), 100, i);
        }

        client.Connection.Abort(new ConnectionAbortedException("test ends the KCP session"));
        await client.DisposeAsync();

        await TestWaits.WaitUntilAsync(() => probe.ClosedSignals == 3, "ConnectionClosed on the session's three streams");
        await TestWaits.WaitUntilAsync(() => Stats(host).SessionsActive == 0, "the smux session to end");
        Assert.Equal(3, probe.Failed);
    }

    [Fact]
    public async Task GarbageInsteadOfSmux_SessionClosedWithProtocolError()
    {
        await using var host = await KcpTestHost.StartAsync<EchoConnectionHandler>(k => Smux(k, 1, compress: false));
        await using var factory = KcpTestHost.Client().CreateFactory();
        var connection = await factory.ConnectAsync(host.KcpEndPoint);
        try
        {
            // Version byte 9: no smux frame; the server must close the KCP session, not hang or crash.
            await connection.Transport.Output.WriteAsync(new byte[] { 9, 0, 0, 0, 1, 0, 0, 0 });
            await TestWaits.WaitAsync(connection.ConnectionClosed, "the server to close the KCP session");
            Assert.Equal(1, Stats(host).GetErrors().ProtocolErrors);
            Assert.Equal(0, Stats(host).StreamsAccepted);
        }
        finally
        {
            await connection.DisposeAsync();
        }
    }

    [Fact]
    public async Task StreamsPastSmuxMaxStreams_RefusedAndCounted_OpenOnesKeepWorking()
    {
        // A peer opening stream after stream: the session's limit refuses the rest with FIN, the open ones carry on.
        await using var host = await KcpTestHost.StartAsync<EchoConnectionHandler>(k =>
        {
            Smux(k, 1, compress: false);
            k.SmuxMaxStreams = 4;
        });
        await using var factory = KcpTestHost.Client().CreateFactory();
        await using var client = await SmuxTestClient.ConnectAsync(factory, host.KcpEndPoint, 1, compress: false);
        var open = new List<SmuxStream>();
        for (var i = 0; i < 4; i++)
        {
            open.Add(await client.OpenAsync());
            await EchoAsync(open[i], 1024, i);
        }

        for (var i = 0; i < 3; i++)
        {
            var refused = await client.OpenAsync();
            Assert.Empty(await TestWaits.ReadToEndAsync(refused.Input).WaitAsync(TestWaits.Bound));
        }

        var (sent, received) = await EchoAsync(open[0], 64 << 10, 9);
        Assert.Equal(sent, received);
        Assert.Null(client.Session.CloseReason);
        await TestWaits.WaitUntilAsync(() => Stats(host).GetErrors().StreamsRefused == 3, "3 refused streams counted");
        Assert.Equal(4, Stats(host).StreamsAccepted);
    }

    [Fact]
    public async Task Stop_LiveStreamDrains_NewStreamRefused()
    {
        var host = await KcpTestHost.StartAsync<EchoConnectionHandler>(k => Smux(k, 2, compress: false));
        await using var factory = KcpTestHost.Client().CreateFactory();
        await using var client = await SmuxTestClient.ConnectAsync(factory, host.KcpEndPoint, 2, compress: false);
        var live = await client.OpenAsync();
        await EchoAsync(live, 4096, 1);
        var listener = Listener(host);

        var stopping = host.StopAsync(TimeSpan.FromSeconds(15));
        await TestWaits.WaitUntilAsync(() => !listener.IsAccepting, "Kestrel to unbind");

        var refused = await client.OpenAsync();
        Assert.Empty(await TestWaits.ReadToEndAsync(refused.Input).WaitAsync(TestWaits.Bound));

        var (sent, received) = await EchoAsync(live, 64 << 10, 2);
        Assert.Equal(sent, received);
        Assert.False(stopping.IsCompleted);
        await live.Output.CompleteAsync();
        await stopping.WaitAsync(TestWaits.Bound);
        await host.DisposeAsync();
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task SnappyWithoutSmux_WholeConnectionCompressed_ServerSeesPlainBytes(bool compress)
    {
        await using var host = await KcpTestHost.StartAsync<IncrementingEchoHandler>(k => k.Compression = compress ? KcpCompression.Snappy : KcpCompression.None);
        await using var factory = KcpTestHost.Client().CreateFactory();
        var connection = await factory.ConnectAsync(host.KcpEndPoint);
        var snappy = compress ? new KcpKestrel.Protocols.Snappy.SnappyDuplexPipe(connection.Transport) : null;
        try
        {
            var pipe = snappy ?? connection.Transport;
            var sent = new byte[256 << 10];
            new Random(5).NextBytes(sent.AsSpan(0, sent.Length / 2));
            await pipe.Output.WriteAsync(sent);
            var received = new List<byte>();
            while (received.Count < sent.Length)
            {
                var result = await pipe.Input.ReadAsync().AsTask().WaitAsync(TestWaits.Bound);
                received.AddRange(result.Buffer.ToArray());
                pipe.Input.AdvanceTo(result.Buffer.End);
                Assert.False(result.IsCompleted && received.Count < sent.Length, "the connection ended early");
            }

            Assert.Equal(sent.Select(b => (byte)(b + 1)), received);
        }
        finally
        {
            if (snappy is not null)
            {
                await snappy.DisposeAsync();
            }

            await connection.DisposeAsync();
        }
    }

    internal static void Smux(KcpOptions k, int version, bool compress)
    {
        k.Multiplexing = KcpMultiplexing.Smux;
        k.SmuxVersion = version;
        k.Compression = compress ? KcpCompression.Snappy : KcpCompression.None;
    }

    internal static async Task<(byte[] Sent, byte[] Received)> EchoAsync(System.IO.Pipelines.IDuplexPipe stream, int bytes, int seed)
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        var writer = StreamCheck.WriteAsync(stream.Output, bytes, seed, cts.Token);
        var reader = StreamCheck.ReadAsync(stream.Input, bytes, cts.Token);
        await Task.WhenAll(writer, reader);
        return (await writer, await reader);
    }

    /// <summary>Echoes what <paramref name="client"/> sends back from <paramref name="server"/>'s side, checking the SHA-256.</summary>
    internal static async Task<(byte[] Sent, byte[] Received)> EchoThroughAsync(System.IO.Pipelines.IDuplexPipe client, ConnectionContext server, int bytes)
    {
        var echo = server.Transport.Input.CopyToAsync(server.Transport.Output);
        var result = await EchoAsync(client, bytes, 9);
        await client.Output.CompleteAsync();
        await echo.WaitAsync(TestWaits.Bound);
        return result;
    }

    private static IKcpListenerState Listener(KcpTestHost host) =>
        Assert.Single(host.Services.GetServices<IConnectionListenerFactory>().OfType<KcpConnectionListenerFactory>().Single().Listeners.Listeners);

    private static SmuxListenerStats Stats(KcpTestHost host) => Listener(host).Diagnostics.Smux!;
}
