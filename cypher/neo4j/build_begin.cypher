// A build starts as 'building': readers filter on the build marked 'current', so they ignore it until done.
CREATE (:GraphBuild {id: $build, state: 'building', started: datetime()})
