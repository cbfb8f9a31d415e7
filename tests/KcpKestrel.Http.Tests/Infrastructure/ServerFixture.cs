using System.Net;
using KcpKestrel.Relay;
using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;

namespace KcpKestrel.Http.Tests.Infrastructure;

/// <summary>One server and one KCP client factory shared by a test class.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public HttpTestServer Server { get; private set; } = null!;

    public KcpConnectionFactory Factory { get; private set; } = null!;

    public static KcpConnectionFactory CreateFactory(int connectRetries = 3) => new(new KcpClientOptions
    {
        Kcp = CreateKcpOptions(),
        ConnectTimeout = TimeSpan.FromSeconds(3),
        ConnectRetries = connectRetries,
    });

    public static KcpOptions CreateKcpOptions()
    {
        var options = new KcpOptions();
        HttpTestServer.ConfigureKcp(options);
        return options;
    }

    /// <summary>An HttpClient whose every request goes over KCP to <paramref name="target"/>; trusts the test certificate only.</summary>
    public HttpClient CreateClient(KcpEndPoint target, string scheme = "http")
    {
        var handler = KcpHttpHandler.Create(Factory, target, h =>
            h.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                certificate is not null && certificate.GetCertHashString() == TestCertificate.Instance.GetCertHashString());
        return new HttpClient(handler)
        {
            BaseAddress = new Uri($"{scheme}://localhost/"),
            Timeout = TimeSpan.FromSeconds(90),
        };
    }

    /// <summary>A relay that drops 5% of datagrams each way in front of <paramref name="target"/>.</summary>
    internal static LossyUdpRelay StartLossyRelay(KcpEndPoint target, int seed)
    {
        var relay = new LossyUdpRelay(new IPEndPoint(IPAddress.Loopback, 0), target.IPEndPoint, new LinkImpairment { Loss = 0.05, Seed = seed });
        relay.Start();
        return relay;
    }

    public async Task InitializeAsync()
    {
        Server = await HttpTestServer.StartAsync();
        Factory = CreateFactory();
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Server.DisposeAsync();
    }
}
