using System.IO.Pipelines;

namespace KcpKestrel.Middleware.Pipes;

/// <summary>A connection's transport with one or both directions passed through an <see cref="IPipeObserver"/>.</summary>
internal sealed class ObservedDuplexPipe : IDuplexPipe
{
    public ObservedDuplexPipe(IDuplexPipe inner, IPipeObserver observer, TimeProvider timeProvider, bool observeInput = true, bool observeOutput = true)
    {
        Input = observeInput ? new ObservedPipeReader(inner.Input, observer, timeProvider) : inner.Input;
        Output = observeOutput ? new ObservedPipeWriter(inner.Output, observer, timeProvider) : inner.Output;
    }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }
}
