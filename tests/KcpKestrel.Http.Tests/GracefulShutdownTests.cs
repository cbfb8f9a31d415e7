using KcpKestrel.Http.Tests.Infrastructure;

namespace KcpKestrel.Http.Tests;

public sealed class GracefulShutdownTests
{
    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task RequestInFlight_CompletesWhileServerDrains(string version)
    {
        await using var server = await HttpTestServer.StartAsync();
        await using var factory = ServerFixture.CreateFactory();
        using var client = CreateClient(factory, version == "2.0" ? server.KcpHttp2 : server.KcpHttp1);
        using var request = Get("slow?ms=1500", version);
        var response = client.SendAsync(request);
        await server.RequestArrived.Task.WaitAsync(TimeSpan.FromSeconds(20));

        var stop = server.StopAsync(TimeSpan.FromSeconds(20));
        using var answer = await response.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal("done", await answer.Content.ReadAsStringAsync());
        await stop.WaitAsync(TimeSpan.FromSeconds(25));
    }

    [Theory]
    [InlineData("1.1")]
    [InlineData("2.0")]
    public async Task RequestPastDrainDeadline_IsAbortedCleanly(string version)
    {
        await using var server = await HttpTestServer.StartAsync();
        await using var factory = ServerFixture.CreateFactory(connectRetries: 0);
        using var client = CreateClient(factory, version == "2.0" ? server.KcpHttp2 : server.KcpHttp1);
        using var request = Get("hang", version);
        var response = client.SendAsync(request);
        await server.RequestArrived.Task.WaitAsync(TimeSpan.FromSeconds(20));

        await server.StopAsync(TimeSpan.FromSeconds(1)).WaitAsync(TimeSpan.FromSeconds(20));

        // HTTP/1.1 retries a GET that got no response bytes on a new connection; that dial fails
        // (the server is gone) after the factory's connect timeout, so both paths end in an error.
        await Assert.ThrowsAsync<HttpRequestException>(() => response.WaitAsync(TimeSpan.FromSeconds(20)));
    }

    private static HttpClient CreateClient(Transport.Kcp.Client.KcpConnectionFactory factory, Transport.Kcp.KcpEndPoint target)
        => new(Transport.Kcp.Client.KcpHttpHandler.Create(factory, target)) { BaseAddress = new Uri("http://localhost/") };

    private static HttpRequestMessage Get(string path, string version) => new(HttpMethod.Get, path)
    {
        Version = Version.Parse(version),
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
    };
}
