using System.Net;
using System.Security.Cryptography;
using KcpKestrel.Cli.Serve;
using KcpKestrel.Cli.Tests.Infrastructure;

namespace KcpKestrel.Cli.Tests.UserTcp;

/// <summary>
/// serve's bulk endpoints (<c>GET /bytes/{n}</c>, <c>POST /sha256</c>) over its plain TCP endpoint on loopback: the
/// interop tests trust them to tell a corrupted transfer from a good one.
/// </summary>
public sealed class TransferEndpointsTests
{
    [Fact]
    public async Task Bytes_StreamsThePatternWithItsLength()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "http"]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://{serve.Tcp}") };
        const int Length = (3 << 20) + 17;

        using var response = await client.GetAsync($"/bytes/{Length}", HttpCompletionOption.ResponseHeadersRead);
        var body = await response.Content.ReadAsByteArrayAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Length, response.Content.Headers.ContentLength);
        Assert.Equal(TransferEndpoints.PatternSha256(Length), Convert.ToHexStringLower(SHA256.HashData(body)));
        var expected = new byte[Length];
        TransferEndpoints.Fill(expected, 0);
        Assert.Equal(expected, body);
    }

    [Fact]
    public async Task Sha256_HashesAStreamedBody()
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "http"]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://{serve.Tcp}") };
        var body = new byte[(5 << 20) + 3];
        TransferEndpoints.Fill(body, 12345);

        using var content = new StreamContent(new MemoryStream(body));
        using var response = await client.PostAsync("/sha256", content);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(body)), (await response.Content.ReadAsStringAsync()).Trim());
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("lots")]
    [InlineData("68719476737")]
    public async Task Bytes_RejectsANonsenseLength(string n)
    {
        await using var serve = await ServeProcess.StartAsync(["--kcp", "127.0.0.1:0", "--tcp", "127.0.0.1:0", "--app", "http"]);
        using var client = new HttpClient { BaseAddress = new Uri($"http://{serve.Tcp}") };

        using var response = await client.GetAsync($"/bytes/{n}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public void Pattern_DoesNotRepeatWithinAChunkAndContinuesAcrossOffsets()
    {
        var whole = new byte[4096];
        TransferEndpoints.Fill(whole, 1000);
        var tail = new byte[96];
        TransferEndpoints.Fill(tail, 1000 + 4000);

        Assert.Equal(whole.AsSpan(4000).ToArray(), tail);
        Assert.NotEqual(whole.AsSpan(0, 256).ToArray(), whole.AsSpan(256, 256).ToArray());
        Assert.Equal(256, whole.Distinct().Count());
    }
}
