using System.IO.Pipelines;
using System.Net;
using System.Text.Json;
using KcpKestrel.Transport.Kcp.Client;
using KcpKestrel.Transport.Kcp.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace KcpKestrel.Transport.Kcp.Tests.Multiplexing;

/// <summary>
/// <c>kcp.Qpp = true</c> (kcptun's <c>--QPP</c>): every smux stream encrypted with QPP on our listener and our client
/// pool, byte for byte as the vectors written from kcptun's qpp (tests/GoVectors/qpp) say.
/// </summary>
public sealed class SmuxQppTests
{
    // The vectors' first case is kcptun's defaults: --key "it's a secrect", --QPPCount 61.
    private const string KcptunKey = "it's a secrect";

    [Theory]
    [InlineData(1, false)]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(2, true)]
    public async Task Echo_QppBothEnds_ConcurrentStreamsIntact(int version, bool compress)
    {
        void Configure(KcpOptions k)
        {
            Qpp(k, version, compress);
            // Room in the session buffer for every stream's window: a v2 echo stalls otherwise (see SmuxListenerTests).
            k.StreamBuffer = 65536;
            k.SmuxBuffer = 8 << 20;
        }

        await using var host = await KcpTestHost.StartAsync<EchoConnectionHandler>(Configure);
        await using var factory = KcpTestHost.Client(Configure).CreateFactory();

        // Several streams at once, and one of 1 MiB: data then arrives in multi-segment reads, which once went unflushed.
        var runs = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            await using var connection = await factory.ConnectAsync(host.KcpEndPoint);
            return await StreamCheck.EchoAsync(connection, i == 0 ? 1 << 20 : 128 << 10, i, TimeSpan.FromMinutes(1));
        }));

        Assert.All(await Task.WhenAll(runs).WaitAsync(TimeSpan.FromMinutes(2)), r => Assert.Equal(r.Sent, r.Received));
        Assert.Equal(1, factory.SessionsDialed);
    }

    [Fact]
    public async Task Http_QppBothEnds_HttpClientRequestsAnswered()
    {
        await using var server = await HttpServer.StartAsync(k => Qpp(k, 2, compress: true));
        await using var factory = KcpTestHost.Client(k => Qpp(k, 2, compress: true)).CreateFactory();
        using var client = new HttpClient(KcpHttpHandler.Create(factory, server.EndPoint));

        var answers = await Task.WhenAll(Enumerable.Range(1, 5).Select(n => client.GetStringAsync(new Uri($"http://kcp/hello/{n}")))).WaitAsync(TestWaits.Bound);

        Assert.Equal(Enumerable.Range(1, 5).Select(n => $"hello {n}"), answers);
        Assert.Equal(1, factory.SessionsDialed);
    }

    [Fact]
    public async Task Http_QppOnClientOnly_RequestFailsAndServerServesOthers()
    {
        await using var server = await HttpServer.StartAsync(k => SmuxListenerTests.Smux(k, 2, compress: false));
        await using var qppFactory = KcpTestHost.Client(k => Qpp(k, 2, compress: false)).CreateFactory();
        using (var mismatched = new HttpClient(KcpHttpHandler.Create(qppFactory, server.EndPoint)) { Timeout = TestWaits.Bound })
        {
            // Kestrel sees encrypted bytes (400 and close), and our client decrypts Kestrel's plain answer into garbage.
            await Assert.ThrowsAsync<HttpRequestException>(() => mismatched.GetStringAsync(new Uri("http://kcp/hello/1")));
        }

        await using var plainFactory = KcpTestHost.Client(k => SmuxListenerTests.Smux(k, 2, compress: false)).CreateFactory();
        using var plain = new HttpClient(KcpHttpHandler.Create(plainFactory, server.EndPoint));
        Assert.Equal("hello 2", await plain.GetStringAsync(new Uri("http://kcp/hello/2")).WaitAsync(TestWaits.Bound));
    }

    [Fact]
    public async Task Echo_QppOnServerOnly_ClientSeesOtherBytesAndNothingHangs()
    {
        // The incrementing echo: a plain echo would round-trip even through a one-sided QPP (its read and write streams match).
        await using var host = await KcpTestHost.StartAsync<IncrementingEchoHandler>(k => Qpp(k, 1, compress: false));
        await using var factory = KcpTestHost.Client(k => SmuxListenerTests.Smux(k, 1, compress: false)).CreateFactory();
        var connection = await factory.ConnectAsync(host.KcpEndPoint);
        var sent = Enumerable.Range(0, 4096).Select(i => (byte)i).ToArray();
        await connection.Transport.Output.WriteAsync(sent);

        var received = await ReadAsync(connection.Transport.Input, sent.Length);
        Assert.NotEqual(sent.Select(b => (byte)(b + 1)), received);

        await connection.Transport.Output.CompleteAsync();
        Assert.Empty(await TestWaits.ReadToEndAsync(connection.Transport.Input).WaitAsync(TestWaits.Bound));
        await connection.DisposeAsync();
    }

    [Fact]
    public async Task Client_QppOn_StreamBytesAreKcptunsVectors()
    {
        // Our client with QPP against a listener without it: the server app sees the stream's raw (encrypted) bytes.
        var (encrypt, decrypt) = KcptunDefaultVectors();
        await using var host = await KcpTestHost.StartAsync<QppVectorHandler>(
            k =>
            {
                SmuxListenerTests.Smux(k, 2, compress: true);
                k.Key = KcptunKey;
            },
            s => s.AddSingleton(new QppVectorHandler { Expect = encrypt.Output.Length, Reply = decrypt.Input }));
        await using var factory = new KcpConnectionFactory(Options(k => Qpp(k, 2, compress: true)));
        await using var connection = await factory.ConnectAsync(host.KcpEndPoint);
        await connection.Transport.Output.WriteAsync(encrypt.Input);

        var fromServer = await ReadAsync(connection.Transport.Input, decrypt.Output.Length);

        Assert.Equal(encrypt.Output, await host.Services.GetRequiredService<QppVectorHandler>().Received.WaitAsync(TestWaits.Bound));
        Assert.Equal(decrypt.Output, fromServer);
    }

    [Fact]
    public async Task Listener_QppOn_StreamBytesAreKcptunsVectors()
    {
        // A raw smux client without QPP against our listener with it: it sends and reads the stream's encrypted bytes.
        var (encrypt, decrypt) = KcptunDefaultVectors();
        await using var host = await KcpTestHost.StartAsync<QppVectorHandler>(
            k =>
            {
                Qpp(k, 2, compress: false);
                k.Key = KcptunKey;
            },
            s => s.AddSingleton(new QppVectorHandler { Expect = decrypt.Output.Length, Reply = encrypt.Input }));
        await using var factory = new KcpConnectionFactory(Options(k => k.Multiplexing = KcpMultiplexing.None));
        await using var client = await SmuxTestClient.ConnectAsync(factory, host.KcpEndPoint, 2, compress: false);
        var stream = await client.OpenAsync();
        await stream.Output.WriteAsync(decrypt.Input);

        var fromServer = await ReadAsync(stream.Input, encrypt.Output.Length);

        Assert.Equal(decrypt.Output, await host.Services.GetRequiredService<QppVectorHandler>().Received.WaitAsync(TestWaits.Bound));
        Assert.Equal(encrypt.Output, fromServer);
    }

    [Fact]
    public void Validate_QppWithoutSmux_NamesBothSettings()
    {
        var options = new KcpOptions { Key = "k", Qpp = true };
        Assert.False(options.TryValidate(out var error));
        Assert.Equal((nameof(KcpOptions.Qpp), nameof(KcpOptions.Multiplexing)), (error.Setting, error.OtherSetting));
        Assert.Contains("Smux", error.Accepted, StringComparison.Ordinal);

        options.Multiplexing = KcpMultiplexing.Smux;
        Assert.True(options.TryValidate(out _));
    }

    internal static void Qpp(KcpOptions k, int version, bool compress)
    {
        SmuxListenerTests.Smux(k, version, compress);
        k.Qpp = true;
    }

    /// <summary>Client options with kcptun's default key (which QPP seeds from) on both layers, as the vectors have it.</summary>
    private static KcpClientOptions Options(Action<KcpOptions> configure)
    {
        var options = KcpTestHost.Client(configure).Build();
        options.Kcp.Key = KcptunKey;
        return options;
    }

    private static async Task<byte[]> ReadAsync(PipeReader input, int count)
    {
        var received = new List<byte>();
        while (received.Count < count)
        {
            var result = await input.ReadAsync().AsTask().WaitAsync(TestWaits.Bound);
            received.AddRange(System.Buffers.BuffersExtensions.ToArray(result.Buffer));
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        return [.. received];
    }

    /// <summary>The one-call encrypt and decrypt streams of the vectors' kcptun-defaults case.</summary>
    private static ((byte[] Input, byte[] Output) Encrypt, (byte[] Input, byte[] Output) Decrypt) KcptunDefaultVectors()
    {
        using var json = JsonDocument.Parse(File.ReadAllText(RepositoryRoot.Combine("tests", "GoVectors", "qpp", "vectors.json")));
        var kcptun = json.RootElement.GetProperty("cases")[0];
        Assert.Equal(Convert.ToHexStringLower(System.Text.Encoding.UTF8.GetBytes(KcptunKey)), kcptun.GetProperty("key").GetString());
        Assert.Equal(61, kcptun.GetProperty("padCount").GetInt32());
        (byte[], byte[]) Stream(string direction)
        {
            var stream = kcptun.GetProperty("streams").EnumerateArray().First(s => s.GetProperty("direction").GetString() == direction);
            return (Convert.FromHexString(stream.GetProperty("input").GetString()!), Convert.FromHexString(stream.GetProperty("output").GetString()!));
        }

        return (Stream("encrypt"), Stream("decrypt"));
    }

    /// <summary>A minimal API on a multiplexing KCP endpoint: GET /hello/{n} answers "hello n".</summary>
    private sealed class HttpServer : IAsyncDisposable
    {
        private readonly Microsoft.Extensions.Hosting.IHost _host;

        private HttpServer(Microsoft.Extensions.Hosting.IHost host, KcpEndPoint endPoint)
        {
            _host = host;
            EndPoint = endPoint;
        }

        public KcpEndPoint EndPoint { get; }

        public static async Task<HttpServer> StartAsync(Action<KcpOptions> configure)
        {
            ListenOptions? listen = null;
            var host = await KestrelTestHost.StartAsync(web => web
                .UseKestrel(o => o.ListenKcp(IPAddress.Loopback, 0, k =>
                {
                    k.Crypt = "aes";
                    k.Key = "test-secret";
                    configure(k);
                }, l =>
                {
                    listen = l;
                    l.Protocols = HttpProtocols.Http1;
                }))
                .UseKcp()
                .ConfigureServices(s => s.AddRouting())
                .Configure(app =>
                {
                    app.UseRouting();
                    app.UseEndpoints(e => e.MapGet("/hello/{n:int}", (int n) => $"hello {n}"));
                }));
            return new HttpServer(host, (KcpEndPoint)listen!.EndPoint);
        }

        public ValueTask DisposeAsync() => new(KestrelTestHost.StopAndDisposeAsync(_host, TimeSpan.FromSeconds(5)));
    }
}
