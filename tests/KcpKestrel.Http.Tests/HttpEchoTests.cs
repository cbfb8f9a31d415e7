using System.Net;
using KcpKestrel.Http.Tests.Infrastructure;
using KcpKestrel.Transport.Kcp;

namespace KcpKestrel.Http.Tests;

public sealed class HttpEchoTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    public static TheoryData<string, int> VersionsAndSizes()
    {
        var data = new TheoryData<string, int>();
        foreach (var version in new[] { "1.1", "2.0" })
        {
            foreach (var size in new[] { 0, 1024, 1 << 20, 8 << 20 })
            {
                data.Add(version, size);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(VersionsAndSizes))]
    public async Task PostEcho_OverKcp_BodyIntact(string version, int size)
    {
        var target = version == "2.0" ? fixture.Server.KcpHttp2 : fixture.Server.KcpHttp1;
        using var client = fixture.CreateClient(target);
        await AssertEchoAsync(client, Version.Parse(version), size, seed: size + 1);
    }

    [Theory]
    [MemberData(nameof(VersionsAndSizes))]
    public async Task PostEcho_ThroughFivePercentLoss_BodyIntact(string version, int size)
    {
        var target = version == "2.0" ? fixture.Server.KcpHttp2 : fixture.Server.KcpHttp1;
        await using var relay = ServerFixture.StartLossyRelay(target, seed: size + 7);
        using var client = fixture.CreateClient(new KcpEndPoint(relay.EndPoint));
        await AssertEchoAsync(client, Version.Parse(version), size, seed: size + 2);
        Assert.True(relay.Upstream.Dropped + relay.Downstream.Dropped > 0 || size < (1 << 20), "The relay dropped nothing.");
    }

    [Theory]
    [InlineData("1.1", 0)]
    [InlineData("1.1", 1 << 20)]
    [InlineData("2.0", 1024)]
    [InlineData("2.0", 8 << 20)]
    public async Task PostEcho_OverTlsOnKcp_AlpnPicksVersion_BodyIntact(string version, int size)
    {
        using var client = fixture.CreateClient(fixture.Server.KcpHttps, "https");
        await AssertEchoAsync(client, Version.Parse(version), size, seed: size + 3);
    }

    [Fact]
    public async Task PostEcho_OverTlsThroughFivePercentLoss_BodyIntact()
    {
        await using var relay = ServerFixture.StartLossyRelay(fixture.Server.KcpHttps, seed: 11);
        using var client = fixture.CreateClient(new KcpEndPoint(relay.EndPoint), "https");
        await AssertEchoAsync(client, HttpVersion.Version20, 1 << 20, seed: 5);
        await AssertEchoAsync(client, HttpVersion.Version11, 1 << 20, seed: 6);
    }

    [Fact]
    public async Task SameApp_AnswersOverTcpToo()
    {
        using var h1 = new HttpClient { BaseAddress = new Uri($"http://{fixture.Server.TcpHttp1}/") };
        await AssertEchoAsync(h1, HttpVersion.Version11, 1 << 20, seed: 9);
        using var h2 = new HttpClient { BaseAddress = new Uri($"http://{fixture.Server.TcpHttp2}/") };
        await AssertEchoAsync(h2, HttpVersion.Version20, 1 << 20, seed: 10);
    }

    [Fact]
    public async Task AnyHost_GoesToTheKcpEndpoint()
    {
        using var client = fixture.CreateClient(fixture.Server.KcpHttp1);
        Assert.Equal("hello", await client.GetStringAsync(new Uri("http://some-kcp-server.invalid:1234/hello")));
    }

    private static async Task AssertEchoAsync(HttpClient client, Version version, int size, int seed)
    {
        var body = Payloads.Bytes(size, seed);
        using var request = new HttpRequestMessage(HttpMethod.Post, "echo")
        {
            Version = version,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Content = new ByteArrayContent(body),
        };
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(90));
        using var response = await client.SendAsync(request, cts.Token);
        response.EnsureSuccessStatusCode();
        Assert.Equal(version, response.Version);
        var echoed = await response.Content.ReadAsByteArrayAsync(cts.Token);
        Assert.Equal(size, echoed.Length);
        Assert.Equal(Payloads.Sha256(body), Payloads.Sha256(echoed));
    }
}
