using System.Buffers;
using Microsoft.AspNetCore.Connections;

namespace KcpKestrel.Cli.Serve;

/// <summary>
/// Writes back every byte it reads; when the peer finishes sending, finishes too. When Kestrel asks it to
/// close (serve is stopping), it echoes what has arrived and then ends its side: data already received is
/// never dropped, and the peer reads end-of-stream after the last echo.
/// </summary>
internal sealed class EchoApp : ConnectionHandler
{
    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        var input = connection.Transport.Input;
        var output = connection.Transport.Output;
        using var closeRequest = CloseRequests.EndReadsOnCloseRequest(connection, input);
        try
        {
            while (true)
            {
                var read = await input.ReadAsync(connection.ConnectionClosed).ConfigureAwait(false);
                foreach (var segment in read.Buffer)
                {
                    output.Write(segment.Span);
                }

                input.AdvanceTo(read.Buffer.End);
                var flush = await output.FlushAsync(connection.ConnectionClosed).ConfigureAwait(false);

                // Canceled: Kestrel asked us to close (see CloseRequests), and what had arrived is echoed.
                if (read.IsCompleted || read.IsCanceled || flush.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The connection went away (ConnectionAbortedException is an OperationCanceledException).
        }
        catch (IOException)
        {
            // Reset by the peer.
        }
    }
}
