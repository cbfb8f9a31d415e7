using KcpKestrel.Transport.Kcp;
using KcpKestrel.Transport.Kcp.Client;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Operations.Tests.Infrastructure;

/// <summary>Dials with the project's client and round-trips bytes.</summary>
public static class Client
{
    public static KcpConnectionFactory Create(Action<KcpOptions>? configure = null)
    {
        var options = new KcpClientOptions
        {
            Kcp = new KcpOptions { Crypt = "aes", Key = OpsHost.Key, IoLoopCount = 1 },
            ConnectTimeout = TimeSpan.FromSeconds(5),
            ConnectRetries = 3,
            IoLoopCount = 1,
        };
        configure?.Invoke(options.Kcp);
        return new KcpConnectionFactory(options);
    }

    /// <summary>Sends <paramref name="length"/> bytes and reads the same number back.</summary>
    public static async Task EchoAsync(ConnectionContext connection, int length)
    {
        var payload = new byte[length];
        for (var i = 0; i < payload.Length; i++)
        {
            payload[i] = (byte)(i * 31);
        }

        await connection.Transport.Output.WriteAsync(payload);
        var received = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (received < length)
        {
            var result = await connection.Transport.Input.ReadAsync(cts.Token);
            foreach (var segment in result.Buffer)
            {
                for (var i = 0; i < segment.Length; i++)
                {
                    Assert.Equal(payload[received + i], segment.Span[i]);
                }

                received += segment.Length;
            }

            connection.Transport.Input.AdvanceTo(result.Buffer.End);
            Assert.False(result.IsCompleted && received < length, "the echo ended early");
        }
    }
}
