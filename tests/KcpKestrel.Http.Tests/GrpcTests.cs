using System.Security.Cryptography;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using KcpKestrel.Http.Tests.Grpc;
using KcpKestrel.Http.Tests.Infrastructure;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;

namespace KcpKestrel.Http.Tests;

public sealed class GrpcTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private const int Messages = 1000;
    private const int MaxSize = 1024;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Unary_ThousandCalls_Intact(bool lossy)
    {
        // Ten callers multiplexed on one HTTP/2 connection: a lost datagram stalls one call for an
        // RTO, not the whole sequence.
        await using var link = await Link.OpenAsync(fixture, lossy);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        const int Callers = 10;
        var callers = new Task[Callers];
        for (var c = 0; c < Callers; c++)
        {
            var seed = c;
            callers[c] = Task.Run(async () =>
            {
                var random = new Random(seed);
                for (var i = 0; i < Messages / Callers; i++)
                {
                    var chunk = Payloads.Chunk(random, i, MaxSize);
                    var reply = await link.Client.UnaryAsync(chunk, cancellationToken: cts.Token);
                    Assert.Equal(chunk, reply);
                }
            });
        }

        await Task.WhenAll(callers);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ServerStreaming_ThousandMessages_Intact(bool lossy)
    {
        await using var link = await Link.OpenAsync(fixture, lossy);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await AssertServerStreamAsync(link.Client, Messages, seed: 42, cts.Token);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ClientStreaming_ThousandMessages_Intact(bool lossy)
    {
        await using var link = await Link.OpenAsync(fixture, lossy);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await AssertClientStreamAsync(link.Client, Messages, seed: 7, cts.Token);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Bidi_ThousandMessages_Intact(bool lossy)
    {
        await using var link = await Link.OpenAsync(fixture, lossy);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await AssertBidiAsync(link.Client, Messages, seed: 3, cts.Token);
    }

    [Fact]
    public async Task FiftyConcurrentClients_AllFourCallKinds_Intact()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        var clients = new Task[50];
        for (var c = 0; c < clients.Length; c++)
        {
            var seed = c;
            clients[c] = Task.Run(async () =>
            {
                // A channel of its own: a KCP session per client.
                using var handler = KcpHttpHandler.Create(fixture.Factory, fixture.Server.KcpHttp2);
                using var channel = GrpcChannel.ForAddress("http://kcp-server", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
                var client = new Echo.EchoClient(channel);
                var random = new Random(seed);
                for (var i = 0; i < 10; i++)
                {
                    var chunk = Payloads.Chunk(random, i, MaxSize);
                    Assert.Equal(chunk, await client.UnaryAsync(chunk, cancellationToken: cts.Token));
                }

                await AssertServerStreamAsync(client, 50, seed, cts.Token);
                await AssertClientStreamAsync(client, 50, seed, cts.Token);
                await AssertBidiAsync(client, 50, seed, cts.Token);
            });
        }

        await Task.WhenAll(clients);
    }

    [Fact]
    public async Task AllCallKinds_OverTlsOnKcp_Intact()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        using var handler = KcpHttpHandler.Create(fixture.Factory, fixture.Server.KcpHttps, h =>
            h.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetCertHashString() == TestCertificate.Instance.GetCertHashString());
        using var channel = GrpcChannel.ForAddress("https://localhost", new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = false });
        var client = new Echo.EchoClient(channel);
        var chunk = Payloads.Chunk(new Random(1), 0, MaxSize);
        Assert.Equal(chunk, await client.UnaryAsync(chunk, cancellationToken: cts.Token));
        await AssertServerStreamAsync(client, Messages, 2, cts.Token);
        await AssertClientStreamAsync(client, Messages, 3, cts.Token);
        await AssertBidiAsync(client, Messages, 4, cts.Token);
    }

    private static async Task AssertServerStreamAsync(Echo.EchoClient client, int messages, int seed, CancellationToken cancellationToken)
    {
        using var call = client.ServerStream(new StreamRequest { Count = messages, Size = MaxSize, Seed = seed }, cancellationToken: cancellationToken);
        var expected = new Random(seed);
        var count = 0;
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            Assert.Equal(Payloads.Chunk(expected, count, MaxSize), chunk);
            count++;
        }

        Assert.Equal(messages, count);
    }

    private static async Task AssertClientStreamAsync(Echo.EchoClient client, int messages, int seed, CancellationToken cancellationToken)
    {
        using var call = client.ClientStream(cancellationToken: cancellationToken);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var random = new Random(seed);
        for (var i = 0; i < messages; i++)
        {
            var chunk = Payloads.Chunk(random, i, MaxSize);
            hash.AppendData(chunk.Payload.Span);
            await call.RequestStream.WriteAsync(chunk, cancellationToken);
        }

        await call.RequestStream.CompleteAsync();
        var summary = await call;
        Assert.Equal(messages, summary.Count);
        Assert.Equal(ByteString.CopyFrom(hash.GetHashAndReset()), summary.Sha256);
    }

    private static async Task AssertBidiAsync(Echo.EchoClient client, int messages, int seed, CancellationToken cancellationToken)
    {
        using var call = client.Bidi(cancellationToken: cancellationToken);
        var sent = new Chunk[messages];
        var random = new Random(seed);
        var writer = Task.Run(async () =>
        {
            for (var i = 0; i < messages; i++)
            {
                sent[i] = Payloads.Chunk(random, i, MaxSize);
                await call.RequestStream.WriteAsync(sent[i], cancellationToken);
            }

            await call.RequestStream.CompleteAsync();
        }, cancellationToken);
        var expected = new Random(seed);
        var count = 0;
        await foreach (var chunk in call.ResponseStream.ReadAllAsync(cancellationToken))
        {
            Assert.Equal(Payloads.Chunk(expected, count, MaxSize), chunk);
            count++;
        }

        await writer;
        Assert.Equal(messages, count);
    }

    /// <summary>A gRPC client over KCP, straight or through a 5% loss relay.</summary>
    private sealed class Link : IAsyncDisposable
    {
        private readonly Relay.LossyUdpRelay? _relay;
        private readonly GrpcChannel _channel;

        private Link(Relay.LossyUdpRelay? relay, GrpcChannel channel)
        {
            _relay = relay;
            _channel = channel;
            Client = new Echo.EchoClient(channel);
        }

        public Echo.EchoClient Client { get; }

        public static Task<Link> OpenAsync(ServerFixture fixture, bool lossy)
        {
            var relay = lossy ? ServerFixture.StartLossyRelay(fixture.Server.KcpHttp2, seed: 21) : null;
            var target = relay is null ? fixture.Server.KcpHttp2 : new KcpEndPoint(relay.EndPoint);
            var channel = GrpcChannel.ForAddress("http://kcp-server", new GrpcChannelOptions
            {
                HttpHandler = KcpHttpHandler.Create(fixture.Factory, target),
            });
            return Task.FromResult(new Link(relay, channel));
        }

        public async ValueTask DisposeAsync()
        {
            _channel.Dispose();
            if (_relay is not null)
            {
                await _relay.DisposeAsync();
            }
        }
    }
}
