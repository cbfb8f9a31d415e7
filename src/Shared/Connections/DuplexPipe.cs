using System.IO.Pipelines;

namespace KcpKestrel.Shared;

/// <summary>A transport's or an application's side of a connection: the two pipe ends it reads and writes.</summary>
internal sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}
