using Grpc.Net.Client;
using KcpKestrel.Http.Tests.Grpc;
using KcpKestrel.Http.Tests.Infrastructure;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;
using Microsoft.Extensions.Time.Testing;

namespace KcpKestrel.Http.Tests;

/// <summary>HttpClient and GrpcChannel over <see cref="KcpHttpHandler"/> with smux: every HTTP connection a stream on pooled sessions.</summary>
public sealed class SmuxClientTests
{
    [Theory]
    [InlineData(KcpCompression.None)]
    [InlineData(KcpCompression.Snappy)]
    public async Task HttpClient_200RequestsOn16Connections_OneKcpSession(KcpCompression compression)
    {
        await using var server = await SmuxHttpServer.StartAsync(compression);
        await using var factory = CreateFactory(compression, sessions: 1);
        using var client = CreateClient(factory, server.Http1);

        await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ => Assert.Equal("hello", await client.GetStringAsync("/hello"))));

        var convs = server.StreamsPerConv;
        Assert.Single(convs);
        Assert.InRange(convs.Values.Single(), 2, 16);
        Assert.Equal(1, factory.SessionsDialed);
    }

    [Fact]
    public async Task HttpClient_TwoSessionsPerEndpoint_SpreadsStreamsOverBoth()
    {
        await using var server = await SmuxHttpServer.StartAsync(KcpCompression.None);
        await using var factory = CreateFactory(KcpCompression.None, sessions: 2);
        using var client = CreateClient(factory, server.Http1);

        await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ => Assert.Equal("hello", await client.GetStringAsync("/hello"))));

        Assert.Equal(2, server.StreamsPerConv.Count);
        Assert.All(server.StreamsPerConv.Values, streams => Assert.True(streams >= 1));
        Assert.Equal(2, factory.SessionsDialed);
    }

    [Fact]
    public async Task GrpcChannel_UnaryCallsOverSmux_OneKcpSession()
    {
        await using var server = await SmuxHttpServer.StartAsync(KcpCompression.Snappy);
        await using var factory = CreateFactory(KcpCompression.Snappy, sessions: 1);
        using var channel = GrpcChannel.ForAddress("http://kcp-server", new GrpcChannelOptions { HttpHandler = KcpHttpHandler.Create(factory, server.Http2) });
        var echo = new Echo.EchoClient(channel);
        using var cts = new CancellationTokenSource(TestWaits.Bound);

        var random = new Random(5);
        for (var i = 0; i < 100; i++)
        {
            var chunk = Payloads.Chunk(random, i, 4096);
            Assert.Equal(chunk, await echo.UnaryAsync(chunk, cancellationToken: cts.Token));
        }

        var summary = await AssertClientStreamAsync(echo, cts.Token);
        Assert.Equal(50, summary.Count);
        Assert.Single(server.StreamsPerConv);
    }

    [Fact]
    public async Task HttpClient_PastAutoExpire_NewSessionAndOldStreamFinishes()
    {
        var time = new FakeTimeProvider();
        await using var server = await SmuxHttpServer.StartAsync(KcpCompression.None);
        await using var factory = CreateFactory(KcpCompression.None, sessions: 1, autoExpire: TimeSpan.FromSeconds(30), time);
        using var client = CreateClient(factory, server.Http1);
        var old = client.GetStringAsync("/wait");
        await server.Waiting.Task.WaitAsync(TestWaits.Bound);

        time.Advance(TimeSpan.FromSeconds(31));
        // The first HTTP connection is busy, so this request dials a stream, which the pool puts on a new session.
        Assert.Equal("hello", await client.GetStringAsync("/hello"));
        server.Release.SetResult();

        Assert.Equal("released", await old.WaitAsync(TestWaits.Bound));
        Assert.Equal(2, server.StreamsPerConv.Count);
        Assert.Equal(2, factory.SessionsDialed);
    }

    [Fact]
    public async Task HttpClient_SessionKilledUnderPool_Redialed()
    {
        await using var server = await SmuxHttpServer.StartAsync(KcpCompression.None);
        await using var factory = CreateFactory(KcpCompression.None, sessions: 1);
        using (var first = CreateClient(factory, server.Http1))
        {
            Assert.Equal("hello", await first.GetStringAsync("/hello"));
        }

        var killed = Assert.Single(factory.SmuxSessionsTo(server.Http1.IPEndPoint));
        killed.Connection.Abort(new Microsoft.AspNetCore.Connections.ConnectionAbortedException("killed by the test"));
        await TestWaits.WaitUntilAsync(() => killed.IsClosed, "the smux session to see its KCP session end");

        using var second = CreateClient(factory, server.Http1);
        Assert.Equal("hello", await second.GetStringAsync("/hello"));

        Assert.Equal(2, factory.SessionsDialed);
        Assert.Equal(2, server.StreamsPerConv.Count);
    }

    private static KcpConnectionFactory CreateFactory(KcpCompression compression, int sessions, TimeSpan autoExpire = default, TimeProvider? time = null) =>
        new(new KcpClientOptions
        {
            Kcp = SmuxHttpServer.CreateKcpOptions(compression),
            ConnectTimeout = TimeSpan.FromSeconds(3),
            SessionsPerEndpoint = sessions,
            AutoExpire = autoExpire,
        })
        {
            PoolTime = time ?? TimeProvider.System,
        };

    private static HttpClient CreateClient(KcpConnectionFactory factory, KcpEndPoint target) =>
        new(KcpHttpHandler.Create(factory, target, h => h.MaxConnectionsPerServer = 16))
        {
            BaseAddress = new Uri("http://kcp-server/"),
            Timeout = TestWaits.Bound,
        };

    private static async Task<Summary> AssertClientStreamAsync(Echo.EchoClient echo, CancellationToken cancellationToken)
    {
        using var call = echo.ClientStream(cancellationToken: cancellationToken);
        var random = new Random(9);
        for (var i = 0; i < 50; i++)
        {
            await call.RequestStream.WriteAsync(Payloads.Chunk(random, i, 8192), cancellationToken);
        }

        await call.RequestStream.CompleteAsync();
        return await call;
    }
}
