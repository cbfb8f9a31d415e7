using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Transport.Kcp.Tests.Infrastructure;

/// <summary>
/// Echoes every byte plus one: a layer that failed to decode (say, snappy frames passed through as they came)
/// shows up as corrupt data instead of round-tripping unnoticed as it would through a plain echo.
/// </summary>
public sealed class IncrementingEchoHandler : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        while (true)
        {
            var result = await input.ReadAsync();
            foreach (var segment in result.Buffer)
            {
                var span = output.GetSpan(segment.Length);
                for (var i = 0; i < segment.Length; i++)
                {
                    span[i] = (byte)(segment.Span[i] + 1);
                }

                output.Advance(segment.Length);
            }

            input.AdvanceTo(result.Buffer.End);
            if ((await output.FlushAsync()).IsCompleted || result.IsCompleted)
            {
                return;
            }
        }
    }
}
