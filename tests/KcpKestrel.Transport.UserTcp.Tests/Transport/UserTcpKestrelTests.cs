using System.Net;
using System.Net.Http;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace KcpKestrel.Transport.UserTcp.Tests.Transport;

/// <summary>
/// Kestrel's HTTP/1.1, HTTP/2 (prior knowledge) and TLS over the user-space stack, end to end through an in-memory
/// link: uploads hashed by the server, downloads hashed by the client. (No full-duplex echo over HTTP/2: HttpClient
/// stalls on that with Kestrel's own sockets transport too, by HTTP/2 flow control, so it would test nothing here.)
/// </summary>
public sealed class UserTcpKestrelTests
{
    [Fact]
    public async Task ServesHttp11KeepAliveRequestsUploadsAndDownloads()
    {
        await using var pair = await StartHttpAsync(HttpProtocols.Http1);
        using var client = CreateClient(pair);

        for (var i = 0; i < 100; i++)
        {
            Assert.Equal("Hello, World!", await SendAsync(client, HttpMethod.Get, "http://usertcp/plaintext", HttpVersion.Version11));
        }

        await AssertUploadAsync(client, "http://usertcp", HttpVersion.Version11, 2 << 20, seed: 1);
        await AssertDownloadAsync(client, "http://usertcp", HttpVersion.Version11, 2 << 20);
        var counters = pair.Client.Runtime.Loops[0].TcpCounters;
        Assert.Equal(1, counters.ActiveOpens);
        Assert.Equal(0, counters.Retransmits);
    }

    [Fact]
    public async Task ServesHttp2WithPriorKnowledgeConcurrently()
    {
        await using var pair = await StartHttpAsync(HttpProtocols.Http2);
        using var client = CreateClient(pair);

        var tasks = new List<Task>();
        for (var i = 0; i < 4; i++)
        {
            tasks.Add(AssertUploadAsync(client, "http://usertcp", HttpVersion.Version20, 512 * 1024, seed: i));
            tasks.Add(AssertDownloadAsync(client, "http://usertcp", HttpVersion.Version20, 512 * 1024));
        }

        await Task.WhenAll(tasks).WaitAsync(TestWaits.Bound);
        Assert.Equal(1, pair.Client.Runtime.Loops[0].TcpCounters.ActiveOpens);
    }

    [Fact]
    public async Task ServesTlsWithHttp11AndHttp2()
    {
        await using var pair = await StartHttpAsync(HttpProtocols.Http1AndHttp2, tls: true);
        using var client = CreateClient(pair);

        Assert.Equal("Hello, World!", await SendAsync(client, HttpMethod.Get, "https://usertcp/plaintext", HttpVersion.Version11));
        await AssertUploadAsync(client, "https://usertcp", HttpVersion.Version11, 1 << 20, seed: 2);
        await AssertDownloadAsync(client, "https://usertcp", HttpVersion.Version20, 1 << 20);
    }

    private static Task<UserTcpPair> StartHttpAsync(HttpProtocols protocols, bool tls = false) =>
        UserTcpPair.StartAsync(
            listen =>
            {
                listen.Protocols = protocols;
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
                        e.MapPost("/sha256", static async (HttpContext context) =>
                        {
                            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
                            var buffer = new byte[16 * 1024];
                            int n;
                            while ((n = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
                            {
                                hash.AppendData(buffer, 0, n);
                            }

                            return Convert.ToHexString(hash.GetHashAndReset());
                        });
                        e.MapGet("/bytes/{count:int}", static async (HttpContext context, int count) =>
                        {
                            context.Response.ContentType = "application/octet-stream";
                            context.Response.ContentLength = count;
                            await context.Response.Body.WriteAsync(Pattern(count), context.RequestAborted);
                        });
                    });
                });
            });

    /// <summary>An HttpClient whose every connection is a user-space TCP connection from the pair's client stack.</summary>
    internal static HttpClient CreateClient(UserTcpPair pair)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) => new ConnectionStream(await pair.Client.ConnectAsync(pair.ServerEndPoint, cancellationToken)),
            SslOptions =
            {
                RemoteCertificateValidationCallback = (_, presented, _, _) =>
                    presented is not null && presented.GetCertHashString() == TestCertificate.Instance.GetCertHashString(),
            },
        };
        return new HttpClient(handler) { Timeout = TestWaits.Bound };
    }

    private static byte[] Pattern(int count)
    {
        var bytes = new byte[count];
        new Random(count).NextBytes(bytes);
        return bytes;
    }

    private static async Task<string> SendAsync(HttpClient client, HttpMethod method, string url, Version version, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, url) { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact, Content = content };
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        Assert.Equal(version, response.Version);
        return await response.Content.ReadAsStringAsync();
    }

    private static async Task AssertUploadAsync(HttpClient client, string origin, Version version, int size, int seed)
    {
        var body = new byte[size];
        new Random(seed).NextBytes(body);
        var hash = await SendAsync(client, HttpMethod.Post, origin + "/sha256", version, new ByteArrayContent(body));
        Assert.Equal(Convert.ToHexString(SHA256.HashData(body)), hash.Trim('"'));
    }

    private static async Task AssertDownloadAsync(HttpClient client, string origin, Version version, int size)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{origin}/bytes/{size}") { Version = version, VersionPolicy = HttpVersionPolicy.RequestVersionExact };
        using var response = await client.SendAsync(request);
        response.EnsureSuccessStatusCode();
        var body = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal(version, response.Version);
        Assert.Equal(SHA256.HashData(Pattern(size)), SHA256.HashData(body));
    }
}
