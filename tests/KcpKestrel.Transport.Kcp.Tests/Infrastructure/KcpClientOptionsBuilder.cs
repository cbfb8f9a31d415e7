using KcpKestrel.Transport.Kcp.Client;

namespace KcpKestrel.Transport.Kcp.Tests.Infrastructure;

/// <summary>Client options that match <see cref="KcpTestHost"/>'s defaults.</summary>
public sealed class KcpClientOptionsBuilder(Action<KcpOptions>? configure)
{
    public KcpClientOptions Build()
    {
        var options = new KcpClientOptions
        {
            Kcp = new KcpOptions { Crypt = "aes", Key = "test-secret" },
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ConnectRetries = 3,
        };
        configure?.Invoke(options.Kcp);
        return options;
    }

    public KcpConnectionFactory CreateFactory() => new(Build());
}
