using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace KcpKestrel.Transport.UserTcp.Tests.Transport;

/// <summary>Kestrel's HTTP/1.1, HTTP/2 and TLS over the user-space stack, end to end through an in-memory link.</summary>
public sealed class UserTcpKestrelTests
{
    [Fact]
    public async Task ServesHttp11KeepAliveRequestsAndALargeBody()
    {
        await using var pair = await StartHttpAsync(HttpProtocols.Http1);
        using var client = CreateClient(pair, https: false);

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal("Hello, World!", await client.GetStringAsync("http://usertcp/plaintext"));
        }

        await AssertEchoesAsync(client, "http://usertcp/echo", HttpVersion.Version11, 1 << 20);
        var counters = pair.Client.Runtime.Loops[0].TcpCounters;
        Assert.True(counters.ActiveOpens == 1, $"opens {counters.ActiveOpens} resets in {counters.ResetsReceived} out {counters.ResetsSent} closed {counters.ClosedNormally} aborted {counters.Aborted}");
    }

    [Fact]
    public async Task ServesHttp2WithPriorKnowledge()
    {
        await using var pair = await StartHttpAsync(HttpProtocols.Http2);
        using var client = CreateClient(pair, https: false);

        using (var first = new HttpRequestMessage(HttpMethod.Get, "http://usertcp/plaintext") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact })
        {
            using var firstResponse = await client.SendAsync(first);
            Assert.Equal("Hello, World!", await firstResponse.Content.ReadAsStringAsync());
        }

        try
        {
        await AssertEchoesAsync(client, "http://usertcp/echo", HttpVersion.Version20, 1000, seed: 98);
        await AssertEchoesAsync(client, "http://usertcp/echo", HttpVersion.Version20, 256 * 1024, seed: 99);
        var tasks = new Task[8];
        for (var i = 0; i < tasks.Length; i++)
        {
            tasks[i] = AssertEchoesAsync(client, "http://usertcp/echo", HttpVersion.Version20, 256 * 1024, seed: i);
        }

            await Task.WhenAll(tasks).WaitAsync(TestWaits.Bound);
        }
        catch (Exception)
        {
            var text = string.Join("\n", Seen.Select(c => ((KcpKestrel.Transport.UserTcp.Connections.UserTcpConnection)c).Describe()));
            var clients = string.Join("\n", Streams.Select(c => ((KcpKestrel.Transport.UserTcp.Connections.UserTcpConnection)c.Connection).Describe()));
            Assert.Fail("server:\n" + text + "\nclient:\n" + clients);
        }

        using var request = new HttpRequestMessage(HttpMethod.Get, "http://usertcp/plaintext") { Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpVersion.Version20, response.Version);
    }

    [Fact]
    public async Task ServesTlsWithHttp11AndHttp2()
    {
        await using var pair = await StartHttpAsync(HttpProtocols.Http1AndHttp2, tls: true);
        using var client = CreateClient(pair, https: true);

        Assert.Equal("Hello, World!", await client.GetStringAsync("https://usertcp/plaintext"));
        await AssertEchoesAsync(client, "https://usertcp/echo", HttpVersion.Version11, 512 * 1024);
        await AssertEchoesAsync(client, "https://usertcp/echo", HttpVersion.Version20, 512 * 1024);
    }

    private static readonly List<Microsoft.AspNetCore.Connections.ConnectionContext> Seen = [];
    private static readonly List<ConnectionStream> Streams = [];

    private static Task<UserTcpPair> StartHttpAsync(HttpProtocols protocols, bool tls = false) =>
        UserTcpPair.StartAsync(
            listen =>
            {
                listen.Protocols = protocols;
                listen.Use(next => ctx => { lock (Seen) { Seen.Add(ctx); } return next(ctx); });
                if (tls)
                {
                    listen.UseHttps(TestCertificate.Instance);
                }
            },
            web =>
            {
                web.ConfigureServices(s => s.AddRouting());
                web.Configure(app =>
                {
                    app.UseRouting();
                    app.UseEndpoints(e =>
                    {
                        e.MapGet("/plaintext", () => "Hello, World!");
                        e.MapPost("/echo", static async (HttpContext context) =>
                        {
                            context.Response.ContentType = "application/octet-stream";
                            await context.Request.Body.CopyToAsync(context.Response.Body, context.RequestAborted);
                        });
                    });
                });
            });

    /// <summary>An HttpClient whose every connection is a user-space TCP connection from the pair's client stack.</summary>
    internal static HttpClient CreateClient(UserTcpPair pair, bool https)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) => { var s = new ConnectionStream(await pair.Client.ConnectAsync(UserTcpPair.ServerEndPoint, cancellationToken)); lock (Streams) { Streams.Add(s); } return s; },
            SslOptions = { RemoteCertificateValidationCallback = (_, presented, _, _) => presented is not null && presented.GetCertHashString() == TestCertificate.Instance.GetCertHashString() },
        };
        return new HttpClient(handler) { Timeout = TestWaits.Bound, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
    }

    private static async Task AssertEchoesAsync(HttpClient client, string url, Version version, int size, int seed = 0)
    {
        var body = new byte[size];
        new Random(seed).NextBytes(body);
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact, Content = new ByteArrayContent(body) };
        using var response = await client.SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode} {response.Version}: {await response.Content.ReadAsStringAsync()} {string.Join(";", response.Headers)}");
        var echoed = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(version, response.Version);
        Assert.Equal(size, echoed.Length);
        Assert.Equal(SHA256.HashData(body), SHA256.HashData(echoed));
    }
}
